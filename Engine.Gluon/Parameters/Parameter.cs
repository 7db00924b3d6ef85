using Engine.Gluon.Initializers;

namespace Engine.Gluon;

/// <summary>
/// A named, trainable array of a block (MXNet's gluon.Parameter). Its shape may hold 0 for dimensions that are
/// inferred on the first forward pass (deferred initialisation). Data() returns the value; Grad() the gradient.
/// A parameter initialised on several devices keeps one copy of its value and gradient on each (ListData,
/// ListGrad, ListDevices); Data(device) picks one, and the Trainer sums the gradients across them.
/// </summary>
public class Parameter
{
    private Shape shape;
    private GradReq gradReq;
    // One copy of the value per device, in the order the devices were given (MXNet's list_data).
    private NDArray[]? copies;
    private DeviceList? devices;
    private NDArray? pendingValue;
    private Initializer? deferredInit;
    private DeviceList? deferredDevices;

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

    public bool IsInitialized => copies is not null;

    /// <summary>write, add or null. Setting null drops the gradients; null to write/add allocates zero
    /// gradients.</summary>
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
            foreach (var copy in copies ?? []) copy.AttachGrad(value);
        }
    }

    /// <summary>
    /// Initialises the value unless already done (then it warns, as MXNet does, and keeps it), on
    /// <paramref name="device"/>: one device or several (<c>[cpu0, cpu1]</c>), by default the current device.
    /// With several, the value is initialised once and copied to each, so the copies start equal.
    /// </summary>
    public void Initialize(Initializer? init = null, DeviceList? device = null, Initializer? defaultInit = null,
        bool forceReinit = false)
    {
        if (copies is not null && !forceReinit)
        {
            Warnings.Warn($"Parameter '{Name}' is already initialized, ignoring. Set forceReinit: true to " +
                          "re-initialize.");
            return;
        }
        var chosen = init ?? Init ?? defaultInit ?? new Uniform();
        var targets = device ?? DefaultDevice.Current;
        if (!HasShape || shape.Dims.Contains(0))
        {
            if (!AllowDeferredInit)
                throw new InvalidOperationException(
                    $"Cannot initialize Parameter '{Name}' because it has invalid shape: {ShapeText}. Give the full " +
                    "shape (for example in_units on Dense) or let the layer infer it on the first forward pass.");
            deferredInit = chosen;
            deferredDevices = targets;
            return;
        }
        Create(chosen, targets);
    }

    internal string ShapeText => HasShape ? shape.ToString() : "unknown";

    /// <summary>Whether Initialize can succeed: the shape is known or initialisation may wait for it.</summary>
    internal bool CanInitialize => AllowDeferredInit || (HasShape && !shape.Dims.Contains(0));

    /// <summary>True when initialisation waits for the shape (the first forward pass).</summary>
    public bool IsDeferred => copies is null && deferredInit is not null;

    /// <summary>Fills unknown (0) dimensions and completes a deferred initialisation. Layers call this.</summary>
    public void FinishDeferredInit(Shape inferred)
    {
        Shape = inferred;
        if (copies is null && deferredInit is not null)
        {
            var init = deferredInit;
            deferredInit = null;
            Create(init, deferredDevices ?? DefaultDevice.Current);
        }
    }

    private void Create(Initializer init, DeviceList targets)
    {
        NDArray first;
        // Initialisation computes values even inside a trace (deferred shapes are found on the traced call).
        using (Engine.Graphs.Tracer.Suspend())
        using (Autograd.Pause())
        {
            first = Nd.Zeros(shape, DType, targets[0]);
            UntrackFromScopes(first);
            if (pendingValue is not null)
            {
                first.Assign(pendingValue);
                pendingValue.Dispose();
                pendingValue = null;
            }
            else
            {
                init.Initialize(Name, first);
            }
        }
        using (Engine.Graphs.Tracer.Suspend()) Install(first, targets);
    }

    /// <summary>Makes <paramref name="value"/> the copy on targets[0] and copies it to the other devices.</summary>
    private void Install(NDArray value, DeviceList targets)
    {
        var made = new NDArray[targets.Count];
        made[0] = value;
        for (int k = 1; k < made.Length; k++)
        {
            made[k] = value.CopyTo(targets[k]);
            UntrackFromScopes(made[k]);
        }
        foreach (var old in copies ?? []) old.Dispose();
        copies = made;
        devices = targets;
        foreach (var copy in made) copy.AttachGrad(gradReq);
    }

    /// <summary>
    /// The value on <paramref name="device"/>; without one, the only copy, or with several the copy on the current
    /// device (DefaultDevice.Current). Throws when not initialised (naming the parameter and the fix).
    /// </summary>
    public NDArray Data(Device? device = null)
    {
        var value = copies is null ? throw NotInitialized() : copies[IndexOf(device)];
        // While a hybridized block is traced, the parameter is a graph variable bound to this parameter.
        return Engine.Graphs.Tracer.Current is { } tracer ? tracer.Parameter(Name, value, this) : value;
    }

    /// <summary>The copies of the value, one per device, in the order of <see cref="ListDevices"/>.</summary>
    public IReadOnlyList<NDArray> ListData() => copies ?? throw NotInitialized();

    /// <summary>The gradients, one per device.</summary>
    public IReadOnlyList<NDArray> ListGrad()
    {
        var all = ListData();
        return all.Select((_, k) => Grad(devices![k])).ToArray();
    }

    /// <summary>The devices this parameter lives on (or will, when its initialisation is deferred).</summary>
    public IReadOnlyList<Device> ListDevices() =>
        devices ?? deferredDevices ?? throw new InvalidOperationException(
            $"Parameter '{Name}' has not been initialized; it lives on no device yet.");

    /// <summary>The gradient buffer on <paramref name="device"/> (chosen as for <see cref="Data"/>).</summary>
    public NDArray Grad(Device? device = null)
    {
        if (gradReq == GradReq.Null)
            throw new InvalidOperationException(
                $"Cannot get gradient array for Parameter '{Name}' because grad_req='null'.");
        return Data(device).Grad ?? throw new InvalidOperationException($"Parameter '{Name}' has no gradient buffer.");
    }

    /// <summary>
    /// Moves the parameter to other devices (MXNet's reset_ctx): the copies are averaged and the mean is copied to
    /// each new device; a deferred parameter only changes where it will be created.
    /// </summary>
    public void ResetDevice(DeviceList device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (copies is not null)
        {
            Install(Reduce(device[0]), device);
            return;
        }
        if (deferredInit is not null)
        {
            deferredDevices = device;
            return;
        }
        throw new InvalidOperationException(
            $"Cannot reset device for Parameter '{Name}' because it has not been initialized.");
    }

    /// <summary>
    /// The mean of the copies as a new array on <paramref name="device"/> (by default cpu(0)): MXNet's _reduce,
    /// which saving uses. The caller owns the result.
    /// </summary>
    internal NDArray Reduce(Device? device = null)
    {
        var all = ListData();
        var target = device ?? Engine.Device.Cpu;
        NDArray result;
        using (Autograd.Pause())
        {
            result = all[0].CopyTo(target);
            UntrackFromScopes(result);
            if (all.Count > 1)
            {
                for (int k = 1; k < all.Count; k++)
                {
                    using var moved = all[k].CopyTo(target);
                    using var sum = result + moved;
                    result.Assign(sum);
                }
                using var mean = result * (1.0 / all.Count);
                result.Assign(mean);
            }
        }
        return result;
    }

    private int IndexOf(Device? device)
    {
        var list = devices!;
        if (device is null && list.Count == 1) return 0;
        var wanted = device ?? DefaultDevice.Current;
        for (int k = 0; k < list.Count; k++)
        {
            if (list[k] == wanted) return k;
        }
        throw new InvalidOperationException(
            $"Parameter '{Name}' was not initialized on device {wanted}. It was only initialized on {list}.");
    }

    private Exception NotInitialized()
    {
        if (deferredInit is not null)
            return new DeferredInitializationException(
                $"Parameter '{Name}' has not been initialized yet because initialization was deferred. Actual " +
                "initialization happens during the first forward pass. Please pass one batch of data through " +
                "the network before accessing Parameters.");
        return new InvalidOperationException(
            $"Parameter '{Name}' has not been initialized. Note that you should initialize parameters and create " +
            "Trainer with Block.CollectParams() instead of Block.Params because the later does not include " +
            "Parameters of nested child Blocks.");
    }

    /// <summary>Whether backward has written the gradient of every copy since the last optimizer step.</summary>
    internal bool FreshGrad
    {
        get => copies is not null && copies.All(IsFresh);
        set
        {
            foreach (var copy in copies ?? [])
            {
                copy.IsGradFresh = value;
            }
        }
    }

    private static bool IsFresh(NDArray copy) => copy.IsGradFresh;

    /// <summary>Overwrites the value on every device (or stores it until a deferred initialisation
    /// completes).</summary>
    public void SetData(NDArray value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (copies is null)
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
        if (value.Shape != shape)
            throw new ArgumentException(
                $"Parameter '{Name}': cannot set data of shape {value.Shape}; the parameter has shape {shape}.");
        using (Autograd.Pause())
        {
            using var cast = value.DType == DType ? null : value.AsType(DType);
            foreach (var copy in copies) copy.Assign(cast ?? value);
        }
    }

    /// <summary>Sets the gradients to zero (nothing to do without them).</summary>
    public void ZeroGrad()
    {
        foreach (var copy in copies ?? [])
        {
            if (copy.Grad is { } g) g.Fill(0);
        }
    }

    /// <summary>Converts the value and gradient to another dtype.</summary>
    public void Cast(DType dtype)
    {
        DType = dtype;
        if (copies is null) return;
        for (int k = 0; k < copies.Length; k++)
        {
            NDArray cast;
            using (Autograd.Pause()) cast = copies[k].AsType(dtype);
            UntrackFromScopes(cast);
            copies[k].Dispose();
            copies[k] = cast;
            cast.AttachGrad(gradReq);
        }
    }

    /// <summary>
    /// Checks a saved value against this parameter (MXNet's _load_init): the shape must agree where known, and the
    /// dtype must be equal unless <paramref name="castDType"/>. Changes nothing.
    /// </summary>
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

    /// <summary>
    /// Loads a checked saved value: fills unknown dims, and with <paramref name="takeSavedDType"/> takes the saved
    /// dtype (dtypeSource "saved"), else casts the value to the parameter's (dtypeSource "current"). An
    /// uninitialised parameter is created on <paramref name="device"/>, else where its deferred initialisation
    /// would have put it, else on the current device.
    /// </summary>
    internal void LoadValue(NDArray value, bool takeSavedDType, DeviceList? device)
    {
        shape = value.Shape;
        HasShape = true;
        if (takeSavedDType && value.DType != DType) Cast(value.DType);
        if (copies is null)
        {
            var targets = device ?? deferredDevices ?? DefaultDevice.Current;
            deferredInit = null;
            Create(new Zero(), targets);
        }
        SetData(value);
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

    private static void UntrackFromScopes(NDArray array) => NDArrayScope.Release(array);

    public override string ToString() => $"Parameter {Name} (shape={ShapeText}, dtype={DType.Name()})";
}

/// <summary>Raised by Data() when initialisation waits for the first forward pass.</summary>
public sealed class DeferredInitializationException(string message) : InvalidOperationException(message);
