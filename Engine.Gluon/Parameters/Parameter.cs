using Engine.Gluon.Initializers;

namespace Engine.Gluon;

/// <summary>
/// A named, trainable array of a block (MXNet's gluon.Parameter). Its shape may hold 0 for dimensions that are
/// inferred on the first forward pass (deferred initialisation). Data() returns the value; Grad() the gradient.
/// </summary>
public class Parameter
{
    private Shape shape;
    private GradReq gradReq;
    private NDArray? data;
    private NDArray? pendingValue;
    private Initializer? deferredInit;
    private Device? deferredDevice;

    public Parameter(string name, GradReq gradReq = GradReq.Write, Shape? shape = null, DType dtype = DType.Float32,
        double lrMult = 1, double wdMult = 1, Initializer? init = null, bool allowDeferredInit = false,
        bool differentiable = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        LocalName = name;
        this.shape = shape ?? Shape.Scalar;
        HasShape = shape is not null;
        DType = dtype;
        LrMult = lrMult;
        WdMult = wdMult;
        Init = init;
        AllowDeferredInit = allowDeferredInit;
        Differentiable = differentiable;
        this.gradReq = differentiable ? gradReq : GradReq.Null;
    }

    /// <summary>The name within its block (weight, bias, fc3_weight).</summary>
    public string LocalName { get; }

    /// <summary>The full name: the owning dictionary's prefix plus the local name (dense0_weight).</summary>
    public string Name => (Owner?.Prefix ?? "") + LocalName;

    internal ParameterDict? Owner { get; set; }

    internal bool HasShape { get; private set; }

    /// <summary>The shape; 0 marks a dimension not known until the first forward pass.</summary>
    public Shape Shape
    {
        get => shape;
        set
        {
            if (HasShape && !Compatible(shape, value))
                throw new ArgumentException(
                    $"Parameter '{Name}': expected shape {shape} is incompatible with given shape {value}; only " +
                    "dimensions that are 0 (unknown) may be filled in.");
            shape = value;
            HasShape = true;
        }
    }

    public DType DType { get; private set; }

    public double LrMult { get; set; }

    public double WdMult { get; set; }

    public Initializer? Init { get; set; }

    public bool AllowDeferredInit { get; }

    public bool Differentiable { get; }

    public bool IsInitialized => data is not null;

    /// <summary>write, add or null. Setting null drops the gradient; null to write/add allocates a zero gradient.</summary>
    public GradReq GradReq
    {
        get => gradReq;
        set
        {
            if (!Differentiable && value != GradReq.Null)
                throw new InvalidOperationException(
                    $"Parameter '{Name}' is not differentiable; its grad_req stays null.");
            if (value == gradReq) return;
            gradReq = value;
            if (data is not null) data.AttachGrad(value);
        }
    }

    /// <summary>Initialises the value unless already done (then it warns, as MXNet does, and keeps it).</summary>
    public void Initialize(Initializer? init = null, Device? device = null, Initializer? defaultInit = null,
        bool forceReinit = false)
    {
        if (data is not null && !forceReinit)
        {
            Warnings.Warn($"Parameter '{Name}' is already initialized, ignoring. Set forceReinit: true to " +
                          "re-initialize.");
            return;
        }
        var chosen = init ?? Init ?? defaultInit ?? new Uniform();
        if (!HasShape || shape.Dims.Contains(0))
        {
            if (!AllowDeferredInit)
                throw new InvalidOperationException(
                    $"Cannot initialize Parameter '{Name}' because it has invalid shape: {ShapeText}. Give the full " +
                    "shape (for example in_units on Dense) or let the layer infer it on the first forward pass.");
            deferredInit = chosen;
            deferredDevice = device ?? DefaultDevice.Current;
            return;
        }
        Create(chosen, device ?? DefaultDevice.Current);
    }

    private string ShapeText => HasShape ? shape.ToString() : "unknown";

    /// <summary>True when initialisation waits for the shape (the first forward pass).</summary>
    public bool IsDeferred => data is null && deferredInit is not null;

    /// <summary>Fills unknown (0) dimensions and completes a deferred initialisation. Layers call this.</summary>
    public void FinishDeferredInit(Shape inferred)
    {
        Shape = inferred;
        if (data is null && deferredInit is not null)
        {
            var init = deferredInit;
            deferredInit = null;
            Create(init, deferredDevice ?? DefaultDevice.Current);
        }
    }

    private void Create(Initializer init, Device device)
    {
        data?.Dispose();
        using (Autograd.Pause())
        {
            data = Nd.Zeros(shape, DType, device);
            UntrackFromScopes(data);
            if (pendingValue is not null)
            {
                data.Assign(pendingValue);
                pendingValue.Dispose();
                pendingValue = null;
            }
            else
            {
                init.Initialize(Name, data);
            }
        }
        data.AttachGrad(gradReq);
    }

    /// <summary>The value. Throws when not initialised (naming the parameter and the fix).</summary>
    public NDArray Data()
    {
        if (data is not null) return data;
        if (deferredInit is not null)
            throw new DeferredInitializationException(
                $"Parameter '{Name}' has not been initialized yet because initialization was deferred. Actual " +
                "initialization happens during the first forward pass. Please pass one batch of data through " +
                "the network before accessing Parameters.");
        throw new InvalidOperationException(
            $"Parameter '{Name}' has not been initialized. Note that you should initialize parameters and create " +
            "Trainer with Block.CollectParams() instead of Block.Params because the later does not include " +
            "Parameters of nested child Blocks.");
    }

    /// <summary>The gradient buffer.</summary>
    public NDArray Grad()
    {
        if (gradReq == GradReq.Null)
            throw new InvalidOperationException(
                $"Cannot get gradient array for Parameter '{Name}' because grad_req='null'.");
        return Data().Grad ?? throw new InvalidOperationException($"Parameter '{Name}' has no gradient buffer.");
    }

    /// <summary>Whether backward has written the gradient since the last optimizer step.</summary>
    internal bool FreshGrad
    {
        get => data?.Node?.FreshGrad ?? false;
        set
        {
            if (data?.Node is { } n) n.FreshGrad = value;
        }
    }

    /// <summary>Overwrites the value (or stores it until a deferred initialisation completes).</summary>
    public void SetData(NDArray value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (data is null)
        {
            if (deferredInit is null && !HasShape)
                throw new InvalidOperationException($"Parameter '{Name}' has not been initialized.");
            Shape = value.Shape;
            pendingValue?.Dispose();
            pendingValue = value.AsType(DType);
            UntrackFromScopes(pendingValue);
            if (!shape.Dims.Contains(0) && deferredInit is null) Create(new Zero(), value.Device);
            return;
        }
        if (value.Shape != data.Shape)
            throw new ArgumentException(
                $"Parameter '{Name}': cannot set data of shape {value.Shape}; the parameter has shape {data.Shape}.");
        using (Autograd.Pause())
        {
            using var cast = value.DType == DType ? null : value.AsType(DType);
            data.Assign(cast ?? value);
        }
    }

    /// <summary>Sets the gradient to zero (nothing to do without one).</summary>
    public void ZeroGrad()
    {
        if (data?.Grad is { } g) g.Fill(0);
    }

    /// <summary>Converts the value and gradient to another dtype.</summary>
    public void Cast(DType dtype)
    {
        DType = dtype;
        if (data is null) return;
        NDArray cast;
        using (Autograd.Pause()) cast = data.AsType(dtype);
        UntrackFromScopes(cast);
        data.Dispose();
        data = cast;
        data.AttachGrad(gradReq);
    }

    /// <summary>Loads a saved value: checks the shape (filling unknown dims) and casts as asked.</summary>
    internal void LoadValue(NDArray value, string file, bool castDType)
    {
        CheckLoadable(value, file, castDType);
        shape = value.Shape;
        HasShape = true;
        if (data is null)
        {
            deferredInit = null;
            Create(new Zero(), deferredDevice ?? DefaultDevice.Current);
        }
        SetData(value);
    }

    /// <summary>The checks of LoadValue alone, so a load can check every value before it changes any.</summary>
    internal void CheckLoadable(NDArray value, string file, bool castDType)
    {
        if (HasShape && !Compatible(shape, value.Shape))
            throw new InvalidDataException(
                $"Failed loading Parameter '{Name}' from saved params: shape incompatible expected {shape} vs saved " +
                $"{value.Shape} (file '{file}').");
        if (value.DType != DType && !castDType)
            throw new InvalidDataException(
                $"Failed loading Parameter '{Name}' from saved params: dtype incompatible expected {DType.Name()} vs " +
                $"saved {value.DType.Name()} (file '{file}'). Set castDType: true to cast the dtype of saved params.");
    }

    private static bool Compatible(Shape expected, Shape given)
    {
        if (expected.Rank != given.Rank) return false;
        for (int i = 0; i < expected.Rank; i++)
        {
            if (expected[i] != 0 && given[i] != 0 && expected[i] != given[i]) return false;
        }
        return true;
    }

    private static void UntrackFromScopes(NDArray array) => NDArrayScope.Current?.Untrack(array);

    public override string ToString() => $"Parameter {Name} (shape={ShapeText}, dtype={DType.Name()})";
}

/// <summary>Raised by Data() when initialisation waits for the first forward pass.</summary>
public sealed class DeferredInitializationException(string message) : InvalidOperationException(message);
