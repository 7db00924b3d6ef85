using Engine.Kernels;
using Engine.Ops;

namespace Engine.Backends;

/// <summary>
/// A backend: the kernels of one family of devices, registered on the operators' definitions. Each backend is a
/// folder beside this file (Cpu, Gpu) with one file per operator family; it is found by reflection and registers
/// once, on the first kernel look-up.
/// </summary>
public abstract class Backend
{
    /// <summary>The backend's name, as in error messages ("cpu").</summary>
    public abstract string Name { get; }

    /// <summary>The device kinds its kernels serve.</summary>
    public abstract IReadOnlyList<DeviceKind> DeviceKinds { get; }

    /// <summary>Whether this build and machine can run it; an unavailable backend registers nothing.</summary>
    public virtual bool IsAvailable => true;

    /// <summary>
    /// Registers the backend's kernels on the operators (calls <see cref="OpDef{TAttrs}.Register"/>).
    /// </summary>
    protected internal abstract void RegisterKernels();

    /// <summary>Registers a kernel for every device kind this backend serves.</summary>
    protected void Register<TAttrs>(OpDef<TAttrs> op, Kernel<TAttrs> kernel) where TAttrs : OpAttrs
    {
        foreach (var kind in DeviceKinds) op.Register(kind, kernel);
    }

    /// <summary>Binds every elementwise operator's math to this backend's elementwise driver.</summary>
    protected void RegisterElementwise(IElementwiseDriver driver)
    {
        foreach (var op in OpRegistry.All.Values.Where(o => o.Math is not null))
        {
            foreach (var kind in DeviceKinds) op.BindElementwise(kind, driver);
        }
    }

    /// <summary>
    /// Registers the operators that are nothing but strided copies on the device (copy, concat, broadcast_to):
    /// the runtime's <see cref="DeviceRuntime.Copy"/> is all they need, so every backend shares them.
    /// </summary>
    protected void RegisterCopyKernels()
    {
        Register(CopyOps.Copy, static (_, c, i, o) => c.Runtime.Copy(i[0], o[0]));
        Register(LayoutOps.Concat, static (a, c, inputs, o) =>
        {
            var y = o[0];
            int axis = y.Shape.NormalizeAxis(a.Axis, "concat");
            var strides = y.Shape.ContiguousStrides();
            long offset = y.Offset;
            foreach (var x in inputs)
            {
                c.Runtime.Copy(x, y.WithLayout(new TensorLayout(x.Shape, strides, offset)));
                offset += x.Shape[axis] * strides[axis];
            }
        });
        Register(ReductionOps.BroadcastTo, static (_, c, i, o) =>
            c.Runtime.Copy(i[0].WithLayout(i[0].Layout.BroadcastTo(o[0].Shape)), o[0]));
    }

    public override string ToString() => Name;
}

/// <summary>The backends of this build, found once by reflection.</summary>
public static class BackendRegistry
{
    private static readonly object gate = new();
    private static volatile IReadOnlyList<Backend>? all;
    private static bool registering;

    /// <summary>Every backend of this build that registered its kernels.</summary>
    public static IReadOnlyList<Backend> All
    {
        get
        {
            EnsureRegistered();
            return all!;
        }
    }

    internal static void EnsureRegistered()
    {
        if (all is not null) return;
        lock (gate)
        {
            if (all is not null || registering) return;
            registering = true;
            try
            {
                var found = typeof(Backend).Assembly.GetTypes()
                    .Where(t => t.IsSubclassOf(typeof(Backend)) && !t.IsAbstract)
                    .OrderBy(t => t.FullName, StringComparer.Ordinal)
                    .Select(t => (Backend)Activator.CreateInstance(t, nonPublic: true)!)
                    .Where(b => b.IsAvailable)
                    .ToList();
                foreach (var b in found) b.RegisterKernels();
                all = found;
            }
            finally
            {
                registering = false;
            }
        }
    }
}
