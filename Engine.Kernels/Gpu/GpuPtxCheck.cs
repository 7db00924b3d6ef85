using System.Collections.Concurrent;
using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Compiles every kernel instantiation to PTX for sm_90 as it is first loaded, when <see cref="Enabled"/>: the
/// simulator accepts code that the PTX backend rejects (a missing intrinsic, a class instance), so the GPU test
/// suite turns this on and every kernel it runs is also proven to compile for an H100. Needs no GPU.
/// </summary>
public static class GpuPtxCheck
{
    private static readonly object Gate = new();
    private static Context? context;
    private static PTXBackend? backend;

    /// <summary>Whether kernels are compiled to PTX on first load (off by default; the GPU tests turn it on).</summary>
    public static bool Enabled { get; set; }

    /// <summary>Each kernel instantiation compiled so far, with the size of its PTX in bytes.</summary>
    public static ConcurrentDictionary<string, int> Compiled { get; } = new();

    /// <summary>Compiles <paramref name="kernel"/> for sm_90 unless disabled or done; throws when PTX rejects it.
    /// </summary>
    internal static void Verify(MethodInfo kernel)
    {
        if (!Enabled) return;
        string name = Describe(kernel);
        if (Compiled.ContainsKey(name)) return;
        lock (Gate)
        {
            context ??= Context.Create(b => b.Optimize(OptimizationLevel.O2).EnableAlgorithms());
            backend ??= new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, null!);
            try
            {
                var compiled = (PTXCompiledKernel)backend.Compile(
                    EntryPointDescription.FromExplicitlyGroupedKernel(kernel), default);
                Compiled[name] = compiled.PTXAssembly.Length;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // After a failed compile a context may fail later ones: start a fresh one.
                backend.Dispose();
                context.Dispose();
                backend = null;
                context = null;
                throw new InvalidOperationException(
                    $"kernel {name} runs on the simulator but does not compile to PTX for sm_90: " +
                    $"{Innermost(e).Message}", e);
            }
        }
    }

    /// <summary>A readable name: Class.Method[TypeArg, ...].</summary>
    public static string Describe(MethodInfo kernel)
    {
        string args = kernel.IsGenericMethod
            ? "[" + string.Join(", ", kernel.GetGenericArguments().Select(TypeName)) + "]"
            : "";
        return $"{kernel.DeclaringType?.Name}.{kernel.Name}{args}";
    }

    private static string TypeName(Type t) => t.IsGenericType
        ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(", ", t.GetGenericArguments().Select(TypeName))}>"
        : t.Name;

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
