using System.Runtime.InteropServices;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The one place the engine touches the CUDA driver library itself: finding it and asking its version, for the
/// GPU support report (ILGPU does the rest).
/// </summary>
internal static unsafe class CudaDriver
{
    private static readonly string[] Names = OperatingSystem.IsWindows()
        ? ["nvcuda.dll"]
        : ["libcuda.so.1", "libcuda.so"];

    private static nint handle;
    private static string? loadedName;
    private static bool tried;

    /// <summary>The driver library's handle, loaded once.</summary>
    public static bool TryLoad(out nint library)
    {
        lock (Names)
        {
            if (!tried)
            {
                tried = true;
                foreach (var name in Names)
                {
                    if (!NativeLibrary.TryLoad(name, out handle)) continue;
                    loadedName = name;
                    break;
                }
            }
            library = handle;
            return handle != 0;
        }
    }

    /// <summary>The file name the driver was loaded from, or null when there is none.</summary>
    public static string? LibraryName => TryLoad(out _) ? loadedName : null;

    /// <summary>The names searched, for the report.</summary>
    public static string SearchedNames => string.Join(", ", Names);

    /// <summary>cuDriverGetVersion: 12040 for CUDA 12.4; null when the driver or the call is unavailable.</summary>
    public static int? Version()
    {
        if (!TryLoad(out var library)) return null;
        if (!NativeLibrary.TryGetExport(library, "cuDriverGetVersion", out var export)) return null;
        int version = 0;
        int status = ((delegate* unmanaged<int*, int>)export)(&version);
        return status == 0 ? version : null;
    }
}
