using System.Collections;
using System.Reflection;
using System.Text;

namespace Engine.Gluon;

/// <summary>
/// The base of every layer and model (MXNet's gluon.Block). Subclasses create child blocks and parameters,
/// usually in fields, and override <see cref="Forward(NDArray)"/>. Children and parameters held in fields are
/// registered automatically, in declaration order; blocks kept in a plain list or array are not (CollectParams
/// warns about them) and need a Sequential or <see cref="RegisterChild{T}"/>.
/// </summary>
public abstract partial class Block
{
    private static readonly AsyncLocal<Block?> currentScope = new();
    private static readonly Dictionary<string, int> globalCounters = new();
    private static readonly object counterGate = new();

    private readonly List<(string Name, Block Child)> children = new();
    private readonly Dictionary<string, int> childCounters = new();
    private readonly string? userPrefix;
    private string? prefix;
    private readonly Block? createdInScope;
    private bool fieldsRegistered;
    private readonly List<Action<Block, NDArray[]>> preHooks = new();
    private readonly List<Action<Block, NDArray[], NDArray[]>> hooks = new();

    /// <param name="prefix">MXNet's prefix: names of this block's parameters start with it. By default the class
    /// alias and a counter (dense0_), under the parent's prefix when the block is a child.</param>
    /// <param name="params">Another block's parameters to share (MXNet's params=).</param>
    protected Block(string? prefix = null, ParameterDict? @params = null)
    {
        userPrefix = prefix;
        // Names are resolved when first needed: a block held in a field of a parent is named under that parent
        // (field initialisers run before the parent's constructor, so the parent is not known yet); one created
        // inside an explicit NameScope is named under that scope's block; any other under a global counter.
        createdInScope = currentScope.Value;
        Params = @params is null ? new ParameterDict(() => Prefix, null)
            : new ParameterDict(() => @params.Prefix, @params);
    }

    /// <summary>The name hint: lower-case class name unless a layer says otherwise (conv, pool, relu).</summary>
    protected virtual string Alias => GetType().Name.ToLowerInvariant();

    /// <summary>The prefix of this block's parameter names, e.g. model0_dense0_.</summary>
    public string Prefix => prefix ??= createdInScope is { } scope ? scope.ChildPrefix(this)
        : userPrefix ?? NextGlobal(Alias);

    /// <summary>The prefix without its trailing underscore.</summary>
    public string Name => Prefix.EndsWith('_') ? Prefix[..^1] : Prefix;

    /// <summary>This block's own parameters (not its children's; see <see cref="CollectParams"/>).</summary>
    public ParameterDict Params { get; }

    /// <summary>Child blocks in registration order, with their attribute names.</summary>
    public IReadOnlyList<(string Name, Block Child)> Children
    {
        get
        {
            EnsureFieldsRegistered();
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

    /// <summary>Registers a child under <paramref name="name"/> (default: its index), as MXNet's register_child.</summary>
    public virtual T RegisterChild<T>(T block, string? name = null) where T : Block
    {
        ArgumentNullException.ThrowIfNull(block);
        EnsureFieldsRegistered();
        return RegisterChildCore(block, name);
    }

    protected T RegisterChildCore<T>(T block, string? name) where T : Block
    {
        if (ReferenceEquals(block, this))
            throw new ArgumentException($"{Name}: a block cannot be its own child.");
        name ??= children.Count.ToString();
        int existing = children.FindIndex(c => c.Name == name);
        if (existing >= 0) children[existing] = (name, block);
        else children.Add((name, block));
        OnChildrenChanged();
        return block;
    }

    /// <summary>Called when children change (HybridBlock drops its cached graph).</summary>
    protected virtual void OnChildrenChanged() { }

    /// <summary>Runs the forward pre-hooks, <see cref="Forward(NDArray)"/> and the forward hooks.</summary>
    public NDArray Call(NDArray x) => CallMany(x)[0];

    /// <summary>The multi-input, multi-output form of <see cref="Call(NDArray)"/>.</summary>
    public NDArray[] CallMany(params NDArray[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        EnsureFieldsRegistered();
        foreach (var h in preHooks.ToList()) h(this, inputs);
        var outputs = ForwardMany(inputs);
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

    /// <summary>Registers a hook run after Forward with the inputs and outputs; dispose the handle to remove it.</summary>
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
        EnsureFieldsRegistered();
        into.Update(Params);
        foreach (var (_, child) in children) child.Collect(into, seen);
    }

    /// <summary>Initialises all parameters (MXNet's initialize); default initializer Uniform(0.07).</summary>
    public Block Initialize(Initializers.Initializer? init = null, Device? device = null, bool forceReinit = false)
    {
        CollectParams().Initialize(init, device, forceReinit);
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
        lock (counterGate)
        {
            globalCounters.TryGetValue(alias, out int n);
            globalCounters[alias] = n + 1;
            return $"{alias}{n}_";
        }
    }

    /// <summary>The name a child gets under this block: this prefix, the child's alias and a per-parent count.</summary>
    private string ChildPrefix(Block child)
    {
        if (child.userPrefix is { } given) return Prefix + given;
        childCounters.TryGetValue(child.Alias, out int n);
        childCounters[child.Alias] = n + 1;
        return $"{Prefix}{child.Alias}{n}_";
    }

    /// <summary>Resets the process-wide name counters (MXNet's fresh NameManager); for tests and scripts.</summary>
    public static void ResetNameCounters()
    {
        lock (counterGate) globalCounters.Clear();
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

    private static bool IsContainer(Type t) =>
        t != typeof(string) && typeof(IEnumerable).IsAssignableFrom(t) && !typeof(Block).IsAssignableFrom(t) &&
        t != typeof(ParameterDict);

    /// <summary>The attribute name of a field: the property name for auto-properties, without a leading _.</summary>
    internal static string AttributeName(FieldInfo f)
    {
        string n = f.Name;
        if (n.StartsWith('<') && n.Contains(">k__BackingField")) n = n[1..n.IndexOf('>')];
        return n.TrimStart('_');
    }

    /// <summary>Registers Block fields as children and Parameter fields as parameters, once.</summary>
    protected void EnsureFieldsRegistered()
    {
        if (fieldsRegistered) return;
        fieldsRegistered = true;
        var fieldChildren = new List<(string, Block)>();
        foreach (var f in MemberFields(GetType()))
        {
            var value = f.GetValue(this);
            string name = AttributeName(f);
            if (value is Block b && !ReferenceEquals(b, this))
            {
                if (children.Any(c => ReferenceEquals(c.Child, b))) continue;
                b.prefix ??= ChildPrefix(b);
                fieldChildren.Add((name, b));
            }
            else if (value is Parameter p)
            {
                ParameterFieldNames[p] = name;
                if (!Params.Values.Contains(p)) Params.Add(p);
            }
        }
        // Field children come first, in declaration order, then anything registered by hand.
        children.InsertRange(0, fieldChildren);
        if (fieldChildren.Count > 0) OnChildrenChanged();
    }

    /// <summary>Attribute names of parameters held in fields (their structural keys).</summary>
    internal Dictionary<Parameter, string> ParameterFieldNames { get; } = new(ReferenceEqualityComparer.Instance);

    private void WarnUnregisteredContainers()
    {
        foreach (var f in MemberFields(GetType()))
        {
            if (!IsContainer(f.FieldType) || f.GetValue(this) is not IEnumerable items) continue;
            if (!ContainsUnregisteredBlock(items, 0)) continue;
            Warnings.Warn(
                $"\"{GetType().Name}.{AttributeName(f)}\" is an unregistered container with Blocks. Note that " +
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
