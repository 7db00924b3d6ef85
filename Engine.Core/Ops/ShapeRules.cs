namespace Engine.Ops;

/// <summary>Shape and dtype rules shared by many operators.</summary>
public static class ShapeRules
{
    /// <summary>One output with the input's shape and dtype.</summary>
    public static TensorType[] Same(OpAttrs _, TensorType[] inputs) => [inputs[0]];

    /// <summary>NumPy broadcasting: dims are aligned from the right and must be equal or 1.</summary>
    public static Shape Broadcast(string op, Shape a, Shape b)
    {
        if (a == b) return a;
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Rank) >= 0 ? a[i - (rank - a.Rank)] : 1;
            int db = i - (rank - b.Rank) >= 0 ? b[i - (rank - b.Rank)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException(
                    $"{op}: shapes {a} and {b} cannot be broadcast together (axis {i} from the left of the " +
                    $"aligned shapes: {da} vs {db}); sizes must match or be 1. Reshape one operand first.");
            dims[i] = Math.Max(da, db) == 1 && (da == 0 || db == 0) ? 0 : (da == 1 ? db : da);
        }
        return new Shape(dims);
    }

    /// <summary>Both inputs of one dtype; the output broadcast.</summary>
    public static TensorType[] BroadcastBinary(string op, TensorType a, TensorType b)
    {
        RequireSameDType(op, a, b);
        return [new TensorType(Broadcast(op, a.Shape, b.Shape), a.DType)];
    }

    public static void RequireSameDType(string op, TensorType a, TensorType b)
    {
        if (a.DType != b.DType)
            throw new ArgumentException(
                $"{op}: operands have different dtypes, {a.DType.Name()} and {b.DType.Name()}; " +
                $"convert one with AsType(DType.{a.DType}).");
    }

    public static void RequireFloat(string op, TensorType x)
    {
        if (!x.DType.IsFloatingPoint() || x.DType == DType.Float16)
            throw new ArgumentException(
                $"{op}: expects float32 or float64 input, got {x.DType.Name()}; convert with AsType(DType.Float32).");
    }

    public static void RequireNumeric(string op, TensorType x)
    {
        if (x.DType is not (DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64))
            throw new ArgumentException(
                $"{op}: expects float32, float64, int32 or int64 input, got {x.DType.Name()}; " +
                "convert with AsType(DType.Float32).");
    }

    /// <summary>Layout of <paramref name="x"/> broadcast to <paramref name="shape"/> (stride 0 on new dims).</summary>
    internal static Engine.TensorLayout BroadcastLayout(NDArray x, Shape shape) => x.Layout.BroadcastTo(shape);
}
