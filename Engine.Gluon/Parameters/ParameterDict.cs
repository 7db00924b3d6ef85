using System.Collections;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Gluon.Initializers;

namespace Engine.Gluon;

/// <summary>
/// Parameters by full name, in insertion order (MXNet's ParameterDict). A dictionary created with
/// <c>shared</c> returns the shared dictionary's parameter of the same full name (Prefix + name) when it has one.
/// Operations over the whole dictionary (Initialize, SetAttr, ResetDevice, Load) check every parameter first and
/// then apply, so they change all parameters or none.
/// </summary>
public sealed partial class ParameterDict : IEnumerable<KeyValuePair<string, Parameter>>
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

    internal ParameterDict? Shared { get; set; }

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
    /// one, every attribute given (not null) is checked against it: a shape is merged (0 means unknown), and
    /// dtype, grad_req, init, lr_mult and wd_mult must agree; an attribute the parameter lacks (init) is set.
    /// Attributes not given take their defaults only when the parameter is created (float32, write, 1, 1).
    /// </summary>
    public Parameter Get(string name, Shape? shape = null, Initializer? init = null, DType? dtype = null,
        GradReq? gradReq = null, bool allowDeferredInit = false, double? lrMult = null, double? wdMult = null,
        bool differentiable = true)
    {
        if (Find(name) is { } existing)
        {
            CheckCompatible(existing, shape, dtype);
            if (gradReq is { } g && g != existing.GradReq)
                Mismatch(existing, "grad_req", Text(g), Text(existing.GradReq));
            if (lrMult is { } lr && lr != existing.LrMult) Mismatch(existing, "lr_mult", $"{lr}", $"{existing.LrMult}");
            if (wdMult is { } wd && wd != existing.WdMult) Mismatch(existing, "wd_mult", $"{wd}", $"{existing.WdMult}");
            if (init is not null && existing.Init is not null && !ReferenceEquals(init, existing.Init) &&
                init.Dumps() != existing.Init.Dumps())
                Mismatch(existing, "init", init.Dumps(), existing.Init.Dumps());
            if (shape is { } s) existing.Shape = Merge(existing, s);
            existing.Init ??= init;
            if (!order.Contains(existing)) order.Add(existing);
            return existing;
        }
        var p = new Parameter(name, gradReq ?? GradReq.Write, shape, dtype ?? DType.Float32, lrMult ?? 1, wdMult ?? 1,
            init, allowDeferredInit, differentiable);
        Add(p);
        return p;
    }

    /// <summary>Checks that a desired shape (merged where dims are 0) and dtype agree with a stored
    /// parameter.</summary>
    internal static void CheckCompatible(Parameter existing, Shape? shape, DType? dtype)
    {
        if (dtype is { } d && d != existing.DType) Mismatch(existing, "dtype", d.Name(), existing.DType.Name());
        if (shape is { } s) Merge(existing, s);
    }

    private static void Mismatch(Parameter p, string attribute, string desired, string stored) =>
        throw new ArgumentException(
            $"Cannot retrieve Parameter '{p.Name}' because desired attribute does not match with stored for " +
            $"attribute '{attribute}': desired '{desired}' vs stored '{stored}'.");

    private static string Text(GradReq g) => g.ToString().ToLowerInvariant();

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
    /// The parameter this dictionary created under a local name, or the shared dictionary's of the full name
    /// Prefix + name. Matching local names of owned parameters does not force the owner's prefix, which is
    /// resolved only when the block is placed.
    /// </summary>
    private Parameter? Find(string name)
    {
        foreach (var p in order)
        {
            if (ReferenceEquals(p.Owner, this) && p.LocalName == name) return p;
        }
        if (Shared is not null && Shared.TryGet(Prefix + name, out var shared)) return shared;
        return null;
    }

    internal void Add(Parameter p)
    {
        p.Owner ??= this;
        order.Add(p);
    }

    /// <summary>Puts <paramref name="replacement"/> where <paramref name="old"/> was (parameter sharing).</summary>
    internal void Replace(Parameter old, Parameter replacement)
    {
        int i = order.IndexOf(old);
        if (i < 0) return;
        if (order.Contains(replacement)) order.RemoveAt(i);
        else order[i] = replacement;
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

    /// <summary>
    /// Initialises every parameter on <paramref name="device"/> (one device or several: <c>[cpu0, cpu1]</c>); the
    /// default initializer is Uniform(0.07), as in MXNet. A parameter whose shape cannot be known stops it before
    /// any parameter is initialised.
    /// </summary>
    public void Initialize(Initializer? init = null, DeviceList? device = null, bool forceReinit = false)
    {
        foreach (var p in order)
        {
            if ((forceReinit || !p.IsInitialized) && !p.CanInitialize)
                throw new InvalidOperationException(
                    $"Cannot initialize Parameter '{p.Name}' because it has invalid shape: {p.ShapeText}. Give the " +
                    "full shape (for example in_units on Dense) or let the layer infer it on the first forward pass. " +
                    "No parameter was initialized.");
        }
        foreach (var p in order) p.Initialize(null, device, init ?? new Uniform(), forceReinit);
    }

    /// <summary>Moves every initialised (or deferred) parameter to <paramref name="device"/> (MXNet's
    /// reset_ctx).</summary>
    public void ResetDevice(DeviceList device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var p in order)
        {
            if (!p.IsInitialized && !p.IsDeferred)
                throw new InvalidOperationException(
                    $"Cannot reset device for Parameter '{p.Name}' because it has not been initialized; no " +
                    "parameter was moved.");
        }
        foreach (var p in order) p.ResetDevice(device);
    }

    /// <summary>The devices the parameters live on (MXNet's list_ctx); all of them share one list in
    /// practice.</summary>
    public IReadOnlyList<Device> ListDevices() =>
        order.Where(p => p.IsInitialized || p.IsDeferred).SelectMany(p => p.ListDevices()).Distinct().ToList();

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in order) p.ZeroGrad();
    }

    /// <summary>
    /// Sets an attribute on every parameter: "grad_req" (write, add, null or a GradReq), "lr_mult" or "wd_mult"
    /// (MXNet's setattr). The value is checked before anything changes. grad_req skips parameters that are not
    /// differentiable (BatchNorm's running statistics keep null), as MXNet does.
    /// </summary>
    public void SetAttr(string name, object value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        switch (name)
        {
            case "grad_req":
                var req = value is GradReq g ? g : ParseGradReq(value.ToString()!);
                foreach (var p in order.Where(p => p.Differentiable)) p.GradReq = req;
                break;
            case "lr_mult":
                double lr = Multiplier(name, value);
                foreach (var p in order) p.LrMult = lr;
                break;
            case "wd_mult":
                double wd = Multiplier(name, value);
                foreach (var p in order) p.WdMult = wd;
                break;
            default:
                throw new ArgumentException(
                    $"ParameterDict.SetAttr: unknown attribute '{name}'; use grad_req, lr_mult or wd_mult.");
        }
    }

    private static double Multiplier(string name, object value)
    {
        double v;
        try
        {
            v = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new ArgumentException($"ParameterDict.SetAttr: {name} must be a number, got '{value}'.", e);
        }
        if (!double.IsFinite(v))
            throw new ArgumentException($"ParameterDict.SetAttr: {name} must be finite, got {v}.");
        return v;
    }

    /// <summary>The parameters whose full names match the regular expression at their start (Python's
    /// re.match).</summary>
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

    internal static Shape Merge(Parameter p, Shape given)
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
