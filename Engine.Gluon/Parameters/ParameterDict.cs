using System.Collections;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Gluon.Initializers;

namespace Engine.Gluon;

/// <summary>
/// Parameters by full name, in insertion order (MXNet's ParameterDict). A dictionary created with
/// <c>shared</c> returns the shared dictionary's parameters for names it holds.
/// </summary>
public sealed class ParameterDict : IEnumerable<KeyValuePair<string, Parameter>>
{
    private readonly List<Parameter> order = new();
    private readonly Func<string> prefix;

    public ParameterDict(string prefix = "", ParameterDict? shared = null) : this(() => prefix, shared) { }

    internal ParameterDict(Func<string> prefix, ParameterDict? shared)
    {
        this.prefix = prefix;
        Shared = shared;
    }

    /// <summary>The prefix new parameters get (the owning block's prefix).</summary>
    public string Prefix => prefix();

    internal ParameterDict? Shared { get; }

    public int Count => order.Count;

    public IEnumerable<string> Keys => order.Select(p => p.Name);

    public IEnumerable<Parameter> Values => order;

    public Parameter this[string name] => TryGet(name, out var p) ? p : throw new KeyNotFoundException(
        $"ParameterDict '{Prefix}': no parameter named '{name}'; it holds {Brief(Keys)}.");

    public bool ContainsKey(string name) => TryGet(name, out _);

    public bool TryGet(string name, out Parameter parameter)
    {
        foreach (var p in order)
        {
            if (p.Name == name)
            {
                parameter = p;
                return true;
            }
        }
        parameter = null!;
        return false;
    }

    /// <summary>
    /// Returns the parameter Prefix+name, from this dictionary or the shared one, or creates it. For an existing
    /// one, a given shape is merged (0 means unknown) and other attributes must agree.
    /// </summary>
    public Parameter Get(string name, Shape? shape = null, Initializer? init = null, DType dtype = DType.Float32,
        GradReq gradReq = GradReq.Write, bool allowDeferredInit = false, double lrMult = 1, double wdMult = 1,
        bool differentiable = true)
    {
        if (Find(name) is { } existing)
        {
            if (shape is { } s) existing.Shape = Merge(existing, s);
            if (existing.DType != dtype)
                throw new ArgumentException(
                    $"Cannot retrieve Parameter '{existing.Name}' because desired attribute does not match with stored for " +
                    $"attribute 'dtype': desired '{dtype.Name()}' vs stored '{existing.DType.Name()}'.");
            if (!order.Contains(existing)) order.Add(existing);
            return existing;
        }
        var p = new Parameter(name, gradReq, shape, dtype, lrMult, wdMult, init, allowDeferredInit, differentiable);
        Add(p);
        return p;
    }

    /// <summary>A constant (grad_req null) initialised to <paramref name="value"/> (MXNet's get_constant).</summary>
    public ConstantParameter GetConstant(string name, NDArray? value = null)
    {
        if (Find(name) is { } existing)
        {
            return existing as ConstantParameter ?? throw new ArgumentException(
                $"Parameter '{existing.Name}' exists but is not a ConstantParameter.");
        }
        if (value is null)
            throw new KeyNotFoundException($"No constant named '{name}' in '{Prefix}'. Give a value to create it.");
        var c = new ConstantParameter(name, value);
        Add(c);
        return c;
    }

    /// <summary>
    /// The parameter this dictionary created under a local name, or the shared dictionary's. Matching local names
    /// of owned parameters does not force the owner's prefix, which is resolved only when the block is placed.
    /// </summary>
    private Parameter? Find(string name)
    {
        foreach (var p in order)
        {
            if (ReferenceEquals(p.Owner, this) && p.LocalName == name) return p;
        }
        if (Shared is not null && Shared.TryGet(Shared.Prefix + name, out var shared)) return shared;
        return null;
    }

    internal void Add(Parameter p)
    {
        p.Owner ??= this;
        order.Add(p);
    }

    /// <summary>Adds parameters of another dictionary (same object under the same name is fine).</summary>
    public void Update(ParameterDict other)
    {
        foreach (var p in other.Values)
        {
            if (TryGet(p.Name, out var mine))
            {
                if (!ReferenceEquals(mine, p))
                    throw new InvalidOperationException(
                        $"Cannot update self with other because they have different Parameters with the same name " +
                        $"'{p.Name}'.");
                continue;
            }
            order.Add(p);
        }
    }

    /// <summary>Initialises every parameter; the default initializer is Uniform(0.07), as in MXNet.</summary>
    public void Initialize(Initializer? init = null, Device? device = null, bool forceReinit = false)
    {
        foreach (var p in order) p.Initialize(null, device, init ?? new Uniform(), forceReinit);
    }

    public void ZeroGrad()
    {
        foreach (var p in order) p.ZeroGrad();
    }

    /// <summary>Sets an attribute on every parameter: "grad_req", "lr_mult" or "wd_mult".</summary>
    public void SetAttr(string name, object value)
    {
        foreach (var p in order)
        {
            switch (name)
            {
                case "grad_req": p.GradReq = value is GradReq g ? g : ParseGradReq(value.ToString()!); break;
                case "lr_mult": p.LrMult = Convert.ToDouble(value); break;
                case "wd_mult": p.WdMult = Convert.ToDouble(value); break;
                default:
                    throw new ArgumentException(
                        $"ParameterDict.SetAttr: unknown attribute '{name}'; use grad_req, lr_mult or wd_mult.");
            }
        }
    }

    /// <summary>The parameters whose full names match the regular expression at their start (Python's re.match).</summary>
    public ParameterDict Select(string pattern)
    {
        var regex = new Regex(pattern);
        var result = new ParameterDict(prefix, Shared);
        foreach (var p in order)
        {
            var m = regex.Match(p.Name);
            if (m.Success && m.Index == 0) result.order.Add(p);
        }
        return result;
    }

    public static GradReq ParseGradReq(string text) => text switch
    {
        "write" => GradReq.Write,
        "add" => GradReq.Add,
        "null" => GradReq.Null,
        _ => throw new ArgumentException($"grad_req must be one of write, add, null; got '{text}'."),
    };

    private static Shape Merge(Parameter p, Shape given)
    {
        if (!p.HasShape) return given;
        var a = p.Shape;
        if (a.Rank != given.Rank)
            throw new ArgumentException(
                $"Cannot retrieve Parameter '{p.Name}' because desired attribute does not match with stored for " +
                $"attribute 'shape': desired '{given}' vs stored '{a}'.");
        var dims = new int[a.Rank];
        for (int i = 0; i < a.Rank; i++)
        {
            if (a[i] != 0 && given[i] != 0 && a[i] != given[i])
                throw new ArgumentException(
                    $"Cannot retrieve Parameter '{p.Name}' because desired attribute does not match with stored for " +
                    $"attribute 'shape': desired '{given}' vs stored '{a}'.");
            dims[i] = a[i] != 0 ? a[i] : given[i];
        }
        return new Shape(dims);
    }

    /// <summary>At most 7 names, then "...", as MXNet's _brief_print_list.</summary>
    internal static string Brief(IEnumerable<string> names)
    {
        var list = names.ToList();
        var shown = list.Count <= 7 ? list : list.Take(6).Append("...").Append(list[^1]).ToList();
        return "[" + string.Join(", ", shown.Select(n => n == "..." ? n : $"'{n}'")) + "]";
    }

    public IEnumerator<KeyValuePair<string, Parameter>> GetEnumerator() =>
        order.Select(p => new KeyValuePair<string, Parameter>(p.Name, p)).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString()
    {
        var sb = new StringBuilder($"{Prefix} (\n");
        foreach (var p in order) sb.Append("  ").Append(p).Append('\n');
        return sb.Append(')').ToString();
    }
}
