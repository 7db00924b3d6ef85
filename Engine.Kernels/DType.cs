namespace Engine;

/// <summary>Element types. The values are MXNet's type codes, as stored in .params files.</summary>
public enum DType
{
    Float32 = 0,
    Float64 = 1,
    Float16 = 2,
    UInt8 = 3,
    Int32 = 4,
    Int8 = 5,
    Int64 = 6,
    Bool = 7,
}

public static class DTypeExtensions
{
    public static int SizeInBytes(this DType t) => t switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.Float16 => 2,
        DType.UInt8 or DType.Int8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), $"unknown dtype code {(int)t}"),
    };

    public static bool IsFloatingPoint(this DType t) => t is DType.Float32 or DType.Float64 or DType.Float16;

    /// <summary>The name MXNet and NumPy use: float32, int64, ...</summary>
    public static string Name(this DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Float16 => "float16",
        DType.UInt8 => "uint8",
        DType.Int32 => "int32",
        DType.Int8 => "int8",
        DType.Int64 => "int64",
        DType.Bool => "bool",
        _ => $"dtype({(int)t})",
    };

    public static DType Parse(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "float" or "f4" => DType.Float32,
        "float64" or "double" or "f8" => DType.Float64,
        "float16" or "half" or "f2" => DType.Float16,
        "uint8" or "u1" => DType.UInt8,
        "int32" or "i4" => DType.Int32,
        "int8" or "i1" => DType.Int8,
        "int64" or "i8" => DType.Int64,
        "bool" or "b1" => DType.Bool,
        _ => throw new ArgumentException(
            $"unknown dtype '{name}'; use one of float32, float64, float16, uint8, int32, int8, int64, bool.",
            nameof(name)),
    };

    /// <summary>The DType of a CLR element type.</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(Half)) return DType.Float16;
        if (typeof(T) == typeof(byte)) return DType.UInt8;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(sbyte)) return DType.Int8;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        throw new NotSupportedException(
            $"{typeof(T).Name} is not an element type; use float, double, int, long or byte.");
    }
}
