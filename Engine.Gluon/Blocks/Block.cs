using System.Collections;
using System.Reflection;
using System.Text;

namespace Engine.Gluon;

/// <summary>
/// The base of every layer and model (MXNet's gluon.Block). Subclasses create child blocks and parameters,
/// usually in fields, and override <see cref="Forward(NDArray)"/>. Children and parameters held in fields are
/// registered automatically, in declaration order: those set by field initialisers when the base constructor
/// runs, and fields are read again whenever the block is used, so a child assigned later (or a replacement) is
/// seen. Blocks kept in a plain list or array are not registered (CollectParams warns about them) and need a
/// Sequential or <see cref="RegisterChild{T}"/>. docs/gluon.md says what naming, replacement and sharing guarantee.
/// </summary>
public abstract partial class Block
{
    private static readonly AsyncLocal<Block?> currentScope = new();
    private static readonly Dictionary<string, int> globalCounters = new();
    // One lock for naming and for changes to any block's children (rare: construction and replacement), so a
    // prefix, once resolved, is final, counters advance in one order, and no two locks can be taken in turn.
    private static readonly object structureGate = new();

    private (string Name, Block Child)[] children = [];
    private (string Name, Block Child)[] fieldChildren = [];
    private readonly List<(string Name, Block Child)> registered = new();
    private (string Key, Parameter Parameter)[] fieldParameters = [];
    private object?[]? lastSeen;
    private readonly Func<Block, object?>[] getters;
    private readonly Dictionary<string, int> childCounters = new();
    private readonly string? userPrefix;
    private readonly ParameterDict? explicitParams;
    private readonly Block? createdInScope;
    private Block? parent;
    private string? localPrefix;
    private string? prefix;
    private readonly List<Action<Block, NDArray[]>> preHooks = new();
    private readonly List<Action<Block, NDArray[], NDArray[]>> hooks = new();

    /// <param name="prefix">MXNet's prefix: names of this block's parameters start with it. By default the class
    /// alias and a counter (dense0_), under the parent's prefix when the block is a child.</param>
    /// <param name="params">Parameters to share (MXNet's params=): this block and its children take the
    /// parameters of that dictionary whose names match theirs under its prefix.</param>
    protected Block(string? prefix = null, ParameterDict? @params = null)
    {
        userPrefix = prefix;
        explicitParams = @params;
        // A block created inside an explicit NameScope is named under that scope's block, unless a parent's
        // field claims it first; names are resolved only when first read.
        createdInScope = currentScope.Value;
        Params = new ParameterDict(() => ParameterPrefix, @params);
        getters = FieldGetters(GetType());
        // Field initialisers run before this constructor: the children they created are linked to this block
        // now, so their names never depend on what is read first.
        SyncFields();
    }

    /// <summary>The name hint: lower-case class name unless a layer says otherwise (conv, pool, relu).</summary>
    protected virtual string Alias => GetType().Name.ToLowerInvariant();

    /// <summary>
    /// The prefix of this block's name, e.g. model0_dense0_: the parent's prefix and this block's part when it
    /// is linked to a parent (a field, or created in the parent's NameScope), else its own prefix or the class
    /// alias and a process-wide counter. It is resolved when first read and never changes afterwards.
    /// </summary>
    public string Prefix
    {
        get
        {
            if (prefix is { } resolved) return resolved;
            lock (structureGate)
            {
                if (prefix is null)
                {
                    if (parent is null && createdInScope is { } scope) scope.Link(this);
                    prefix = parent is not null ? parent.Prefix + localPrefix : userPrefix ?? NextGlobal(Alias);
                }
                return prefix;
            }
        }
    }

    /// <summary>The prefix without its trailing underscore.</summary>
    public string Name => Prefix.EndsWith('_') ? Prefix[..^1] : Prefix;

    /// <summary>This block's own parameters (not its children's; see <see cref="CollectParams"/>).</summary>
    public ParameterDict Params { get; }

    /// <summary>
    /// The prefix of this block's parameter names. It equals <see cref="Prefix"/> unless parameters are shared:
    /// a block given params= names its parameters under that dictionary's prefix, and so do its children (MXNet's
    /// ParameterDict(parent.prefix + child_prefix, shared)).
    /// </summary>
    internal string ParameterPrefix => explicitParams is { } given ? given.Prefix
        : parent is not null ? parent.ParameterPrefix + localPrefix : Prefix;

    /// <summary>The dictionary this block's parameters are shared from: its own params=, else its parent's.</summary>
    private ParameterDict? EffectiveShared => explicitParams ?? parent?.EffectiveShared;

    /// <summary>Child blocks in registration order, with their attribute names.</summary>
    public IReadOnlyList<(string Name, Block Child)> Children
    {
        get
        {
            SyncFields();
            return children;
        }
    }

    /// <summary>
    /// Names blocks created inside it under this block's prefix:
    /// <c>using (net.NameScope()) net.Add(new Dense(10));</c> gives sequential0_dense0_.
    /// </summary>
    public IDisposable NameScope()
    {
        var previous = currentScope.Value;
        currentScope.Value = this;
        return new ScopeExit(() => currentScope.Value = previous);
    }

    /// <summary>
    /// Registers a child under <paramref name="name"/> (default: its index), as MXNet's register_child; a child
    /// registered again under the same name replaces the previous one.
    /// </summary>
    public virtual T RegisterChild<T>(T block, string? name = null) where T : Block
    {
        ArgumentNullException.ThrowIfNull(block);
        if (ReferenceEquals(block, this))
            throw new ArgumentException($"{Name}: a block cannot be its own child.");
        SyncFields();
        lock (structureGate)
        {
            name ??= children.Length.ToString();
            int existing = registered.FindIndex(c => c.Name == name);
            if (existing >= 0) registered[existing] = (name, block);
            else registered.Add((name, block));
            if (ReferenceEquals(block.createdInScope, this))
            {
                Link(block);
            }
            children = Combine(fieldChildren, registered);
        }
        OnChildrenChanged();
        return block;
    }

    /// <summary>Called when children change: registered, replaced or removed (a compiled graph of the block would
    /// be dropped here).</summary>
    protected virtual void OnChildrenChanged() { }

    /// <summary>Runs the forward pre-hooks, <see cref="Forward(NDArray)"/> and the forward hooks.</summary>
    public NDArray Call(NDArray x) => CallMany(x)[0];

    /// <summary>
    /// The multi-input, multi-output form of <see cref="Call(NDArray)"/>. Virtual so that a block can own how it
    /// is run: a hybridized block runs its cached graph here instead of calling Forward.
    /// </summary>
    public virtual NDArray[] CallMany(params NDArray[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        SyncFields();
        foreach (var h in preHooks.ToList()) h(this, inputs);
        var tracer = Engine.Graphs.Tracer.Current;
        NDArray[] outputs;
        using (tracer?.NameScope(Prefix)) outputs = ForwardMany(inputs);
        if (tracer is not null)
        {
            foreach (var y in outputs) tracer.NameOutput(y, Prefix);
        }
        foreach (var h in hooks.ToList()) h(this, inputs, outputs);
        return outputs;
    }

    /// <summary>The computation of a single-input, single-output block.</summary>
    public virtual NDArray Forward(NDArray x) =>
        throw new NotImplementedException(
            $"{GetType().Name} '{Name}' does not override Forward(NDArray); override it (or ForwardMany for " +
            "several inputs or outputs).");

    /// <summary>The computation of a block with several inputs or outputs; by default calls Forward.</summary>
    public virtual NDArray[] ForwardMany(NDArray[] inputs)
    {
        if (inputs.Length != 1)
            throw new ArgumentException(
                $"{GetType().Name} '{Name}' takes one input but was called with {inputs.Length}; override " +
                "ForwardMany to accept several.");
        return [Forward(inputs[0])];
    }

    /// <summary>Registers a hook run before Forward; dispose the handle to remove it.</summary>
    public IDisposable RegisterForwardPreHook(Action<Block, NDArray[]> hook)
    {
        if (!preHooks.Contains(hook)) preHooks.Add(hook);
        return new ScopeExit(() => preHooks.Remove(hook));
    }

    /// <summary>Registers a hook run after Forward with the inputs and outputs; dispose the handle to remove
    /// it.</summary>
    public IDisposable RegisterForwardHook(Action<Block, NDArray[], NDArray[]> hook)
    {
        if (!hooks.Contains(hook)) hooks.Add(hook);
        return new ScopeExit(() => hooks.Remove(hook));
    }

    internal bool HasHooks => preHooks.Count > 0 || hooks.Count > 0;

    /// <summary>
    /// This block's parameters and all its descendants', by full name; with <paramref name="select"/>, only the
    /// names a regular expression matches at their start (Python's re.match).
    /// </summary>
    public ParameterDict CollectParams(string? select = null)
    {
        if (select is not null) CheckPattern(select);
        WarnUnregisteredContainers();
        var all = new ParameterDict(Params.Prefix, Params.Shared);
        Collect(all, new HashSet<Block>(ReferenceEqualityComparer.Instance));
        return select is null ? all : all.Select(select);
    }

    private void CheckPattern(string select)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(select);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(
                $"{GetType().Name}.CollectParams: select '{select}' is not a valid regular expression ({e.Message}); " +
                "escape special characters such as '(' or '*' with a backslash, or use '.*' for any text.",
                nameof(select), e);
        }
    }

    private void Collect(ParameterDict into, HashSet<Block> seen)
    {
        if (!seen.Add(this)) return;
        SyncFields();
        into.Update(Params);
        foreach (var (_, child) in children) child.Collect(into, seen);
    }

    /// <summary>
    /// Initialises all parameters (MXNet's initialize); default initializer Uniform(0.07). <paramref name="device"/>
    /// is one device or several (<c>[cpu0, cpu1]</c>: one copy of every parameter on each).
    /// </summary>
    public Block Initialize(Initializers.Initializer? init = null, DeviceList? device = null,
        bool forceReinit = false)
    {
        CollectParams().Initialize(init, device, forceReinit);
        // As MXNet, re-initialising drops hybridized blocks' cached graphs (parameters may have moved devices).
        if (forceReinit) Apply(b => (b as HybridBlock)?.ClearCache());
        return this;
    }

    /// <summary>Calls <paramref name="action"/> on every descendant, children first, then this block.</summary>
    public Block Apply(Action<Block> action)
    {
        foreach (var (_, child) in Children) child.Apply(action);
        action(this);
        return this;
    }

    /// <summary>Converts every parameter to <paramref name="dtype"/>.</summary>
    public virtual void Cast(DType dtype)
    {
        foreach (var (_, child) in Children) child.Cast(dtype);
        foreach (var p in Params.Values) p.Cast(dtype);
    }

    /// <summary>On a plain Block, hybridizes the HybridBlock children (MXNet's behaviour).</summary>
    public virtual void Hybridize(bool active = true, HybridizeOptions? options = null)
    {
        foreach (var (_, child) in Children) child.Hybridize(active, options);
    }

    // ---- naming -------------------------------------------------------------------------------------------

    private static string NextGlobal(string alias)
    {
        globalCounters.TryGetValue(alias, out int n);
        globalCounters[alias] = n + 1;
        return $"{alias}{n}_";
    }

    /// <summary>
    /// Names <paramref name="child"/> under this block (this prefix, then the child's own prefix or its alias and
    /// a per-parent count) unless it already has a name or a parent, and shares parameters into it when this block
    /// shares. The caller holds the structure lock.
    /// </summary>
    private void Link(Block child)
    {
        if (child.parent is not null || child.prefix is not null || ReferenceEquals(child, this)) return;
        child.parent = this;
        if (child.userPrefix is { } given)
        {
            child.localPrefix = given;
        }
        else
        {
            childCounters.TryGetValue(child.Alias, out int n);
            childCounters[child.Alias] = n + 1;
            child.localPrefix = $"{child.Alias}{n}_";
        }
        if (EffectiveShared is { } shared) child.ShareFrom(shared);
    }

    /// <summary>
    /// Takes the parameters of <paramref name="shared"/> whose names match this block's parameter names, here and
    /// in the children linked to it (MXNet's sharing through params=). Parameters held in fields are replaced too.
    /// </summary>
    private void ShareFrom(ParameterDict shared)
    {
        if (explicitParams is not null) return;
        Params.Shared = shared;
        foreach (var own in Params.Values.ToList())
        {
            if (!ReferenceEquals(own.Owner, Params)) continue;
            if (!shared.TryGet(ParameterPrefix + own.LocalName, out var other) || ReferenceEquals(other, own)) continue;
            ParameterDict.CheckCompatible(other, own.HasShape ? own.Shape : (Shape?)null, own.DType);
            Params.Replace(own, other);
            ReplaceParameterField(own, other);
        }
        foreach (var (_, child) in children)
        {
            if (ReferenceEquals(child.parent, this)) child.ShareFrom(shared);
        }
    }

    private void ReplaceParameterField(Parameter old, Parameter replacement)
    {
        var fields = MemberFields(GetType());
        lock (structureGate)
        {
            for (int i = 0; i < fields.Length; i++)
            {
                if (!ReferenceEquals(fields[i].GetValue(this), old)) continue;
                fields[i].SetValue(this, replacement);
                if (lastSeen is not null) lastSeen[i] = replacement;
            }
            fieldParameters = Array.ConvertAll(fieldParameters,
                f => ReferenceEquals(f.Parameter, old) ? (f.Key, replacement) : f);
        }
    }

    /// <summary>Resets the process-wide name counters (MXNet's fresh NameManager); for tests and scripts.</summary>
    public static void ResetNameCounters()
    {
        lock (structureGate) globalCounters.Clear();
    }

    // ---- fields -------------------------------------------------------------------------------------------

    private static readonly Dictionary<Type, FieldInfo[]> fieldCache = new();

    /// <summary>Block and Parameter fields of a type, base class first, in declaration order (cached).</summary>
    private static FieldInfo[] MemberFields(Type type)
    {
        lock (fieldCache)
        {
            if (fieldCache.TryGetValue(type, out var cached)) return cached;
            var chain = new List<Type>();
            for (var t = type; t is not null && t != typeof(Block); t = t.BaseType) chain.Insert(0, t);
            var fields = chain.SelectMany(t => t.GetFields(BindingFlags.Instance | BindingFlags.Public |
                                                           BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                .Where(f => typeof(Block).IsAssignableFrom(f.FieldType) ||
                            typeof(Parameter).IsAssignableFrom(f.FieldType) || IsContainer(f.FieldType))
                .ToArray();
            fieldCache[type] = fields;
            return fields;
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, Func<Block, object?>[]>
        getterCache = new();

    /// <summary>
    /// Compiled readers of <see cref="MemberFields"/>, in the same order: every use of a block compares its fields
    /// with what it saw last, and a compiled read costs a few nanoseconds where FieldInfo.GetValue costs ~50.
    /// </summary>
    private static Func<Block, object?>[] FieldGetters(Type type) => getterCache.GetOrAdd(type, t =>
        Array.ConvertAll(MemberFields(t), f =>
        {
            var block = System.Linq.Expressions.Expression.Parameter(typeof(Block), "block");
            var read = System.Linq.Expressions.Expression.Field(
                System.Linq.Expressions.Expression.Convert(block, f.DeclaringType!), f);
            return System.Linq.Expressions.Expression.Lambda<Func<Block, object?>>(
                System.Linq.Expressions.Expression.Convert(read, typeof(object)), block).Compile();
        }));

    private static bool IsContainer(Type t) =>
        t != typeof(string) && typeof(IEnumerable).IsAssignableFrom(t) && !typeof(Block).IsAssignableFrom(t) &&
        t != typeof(ParameterDict);

    /// <summary>
    /// The attribute name of a field, its structural key: the name given by <see cref="StructuralKeyAttribute"/>,
    /// else the field's (or auto-property's) name without leading underscores, in snake_case as MXNet's Python
    /// attributes are (Features: features, ClassPredictors: class_predictors, fc1: fc1).
    /// </summary>
    internal static string AttributeName(FieldInfo f)
    {
        string n = MemberName(f);
        MemberInfo member = f;
        if (n != f.Name)
        {
            member = f.DeclaringType?.GetProperty(n, BindingFlags.Instance | BindingFlags.Public |
                                                    BindingFlags.NonPublic | BindingFlags.DeclaredOnly) ?? member;
        }
        var given = member.GetCustomAttribute<StructuralKeyAttribute>() ??
                    f.GetCustomAttribute<StructuralKeyAttribute>();
        return given?.Key ?? SnakeCase(n.TrimStart('_'));
    }

    private static string ParameterKey(FieldInfo f, Parameter p)
    {
        string n = MemberName(f);
        MemberInfo member = n == f.Name ? f : f.DeclaringType?.GetProperty(n, BindingFlags.Instance |
            BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly) ?? (MemberInfo)f;
        return (member.GetCustomAttribute<StructuralKeyAttribute>() ?? f.GetCustomAttribute<StructuralKeyAttribute>())
            ?.Key ?? p.LocalName;
    }

    /// <summary>The C# name of a field, or of the auto-property it backs.</summary>
    private static string MemberName(FieldInfo f) =>
        f.Name.StartsWith('<') && f.Name.Contains(">k__BackingField") ? f.Name[1..f.Name.IndexOf('>')] : f.Name;

    /// <summary>PascalCase or camelCase to snake_case; acronyms stay together (IOHandler: io_handler,
    /// Conv2D: conv2d).</summary>
    internal static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (i > 0 && char.IsUpper(c))
            {
                char before = name[i - 1];
                bool nextLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (char.IsLower(before) || ((char.IsUpper(before) || char.IsDigit(before)) && nextLower))
                    sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>
    /// Brings children and parameters held in fields up to date: a field assigned since the last use is seen now
    /// (its new block replaces the old one under the same attribute name; a new block is named under this one).
    /// Runs in the constructor and whenever the block is used (Call, Children, CollectParams, Initialize, saving).
    /// </summary>
    protected void SyncFields()
    {
        var seen = lastSeen;
        if (seen is not null)
        {
            bool same = true;
            for (int i = 0; i < getters.Length && same; i++) same = ReferenceEquals(getters[i](this), seen[i]);
            if (same) return;
        }
        var fields = MemberFields(GetType());
        bool changed;
        lock (structureGate)
        {
            seen = lastSeen ??= new object?[fields.Length];
            var blocks = new List<(string, Block)>();
            var parameters = new List<(string, Parameter)>();
            for (int i = 0; i < fields.Length; i++)
            {
                var value = fields[i].GetValue(this);
                if (value is Block b && !ReferenceEquals(b, this))
                {
                    if (!blocks.Any(c => ReferenceEquals(c.Item2, b))) blocks.Add((AttributeName(fields[i]), b));
                    Link(b);
                }
                else if (value is Parameter p)
                {
                    if (seen[i] is Parameter before && !ReferenceEquals(before, p))
                        throw new InvalidOperationException(
                            $"Overriding Parameter attribute {AttributeName(fields[i])} of {GetType().Name} is not " +
                            "allowed. If you want to share parameters between blocks, please set 'params' at Block " +
                            "construction instead.");
                    parameters.Add((ParameterKey(fields[i], p), p));
                    if (!Params.Values.Contains(p)) Params.Add(p);
                }
                seen[i] = value;
            }
            fieldParameters = parameters.ToArray();
            changed = !blocks.SequenceEqual(fieldChildren, ChildComparer.Instance);
            if (changed)
            {
                fieldChildren = blocks.ToArray();
                children = Combine(fieldChildren, registered);
            }
        }
        if (changed) OnChildrenChanged();
    }

    /// <summary>Field children in declaration order, then children registered by hand (same name: replaced).</summary>
    private static (string Name, Block Child)[] Combine((string Name, Block Child)[] fromFields,
        List<(string Name, Block Child)> byHand)
    {
        var all = fromFields.ToList();
        foreach (var entry in byHand)
        {
            int i = all.FindIndex(c => c.Name == entry.Name);
            if (i >= 0) all[i] = entry;
            else all.Add(entry);
        }
        return all.ToArray();
    }

    private sealed class ChildComparer : IEqualityComparer<(string Name, Block Child)>
    {
        public static readonly ChildComparer Instance = new();

        public bool Equals((string Name, Block Child) x, (string Name, Block Child) y) =>
            x.Name == y.Name && ReferenceEquals(x.Child, y.Child);

        public int GetHashCode((string Name, Block Child) obj) => obj.Name.GetHashCode();
    }

    /// <summary>
    /// Parameters held in fields, in declaration order, with their structural keys: the name given by
    /// <see cref="StructuralKeyAttribute"/>, else the parameter's local name (weight, running_mean, fc3_weight).
    /// </summary>
    internal IReadOnlyList<(string Key, Parameter Parameter)> FieldParameters
    {
        get
        {
            SyncFields();
            return fieldParameters;
        }
    }

    private void WarnUnregisteredContainers()
    {
        SyncFields();
        foreach (var f in MemberFields(GetType()))
        {
            if (!IsContainer(f.FieldType) || f.GetValue(this) is not IEnumerable items) continue;
            if (!ContainsUnregisteredBlock(items, 0)) continue;
            Warnings.Warn(
                $"\"{GetType().Name}.{MemberName(f)}\" is an unregistered container with Blocks. Note that " +
                "Blocks inside the list, tuple or dict will not be registered automatically. Make sure to register " +
                "them using RegisterChild() or switching to Sequential/HybridSequential instead.");
        }
        foreach (var (_, child) in children) child.WarnUnregisteredContainers();
    }

    private bool ContainsUnregisteredBlock(IEnumerable items, int depth)
    {
        if (depth > 4) return false;
        foreach (var item in items)
        {
            var value = item is DictionaryEntry de ? de.Value : item;
            if (value is null) continue;
            var type = value.GetType();
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(KeyValuePair<,>))
                value = type.GetProperty("Value")!.GetValue(value);
            if (value is Block b && !children.Any(c => ReferenceEquals(c.Child, b))) return true;
            if (value is IEnumerable nested && value is not string && value is not Block &&
                ContainsUnregisteredBlock(nested, depth + 1)) return true;
        }
        return false;
    }

    // ---- printing -----------------------------------------------------------------------------------------

    /// <summary>MXNet's repr: <c>Net(\n  (fc1): Dense(784 -> 256, Activation(relu))\n)</c>.</summary>
    public override string ToString()
    {
        var kids = Children;
        if (kids.Count == 0) return $"{GetType().Name}()";
        var sb = new StringBuilder($"{GetType().Name}(\n");
        foreach (var (name, child) in kids)
            sb.Append($"  ({name}): ").Append(Indent(child.ToString())).Append('\n');
        return sb.Append(')').ToString();
    }

    private static string Indent(string s) => s.Replace("\n", "\n  ");

    private sealed class ScopeExit(Action action) : IDisposable
    {
        private Action? action = action;

        public void Dispose()
        {
            action?.Invoke();
            action = null;
        }
    }
}
