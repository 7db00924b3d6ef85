using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Where the tiled GEMM kernel reads an operand: element (row, col) of matrix z. A dense matrix, or a matrix that
/// exists only as an addressing rule (a convolution's im2col matrix), which makes the convolution an implicit GEMM.
/// </summary>
public interface IMatrixSource
{
    float Load(int z, int row, int col);
}

/// <summary>Where the tiled GEMM kernel writes element (row, col) of result z, given the accumulated product.</summary>
public interface IMatrixTarget
{
    void Store(int z, int row, int col, float product);
}

/// <summary>A dense row-major matrix (or its transpose) per batch item, items <see cref="BatchStride"/> apart.
/// </summary>
public struct DenseSource : IMatrixSource
{
    public ArrayView<float> Data;
    public int Offset, BatchStride, Ld, Transposed;

    public readonly float Load(int z, int row, int col) =>
        Data[Offset + z * BatchStride + (Transposed != 0 ? col * Ld + row : row * Ld + col)];
}

/// <summary>C = alpha * product + beta * C (C not read when beta is 0, so it may hold anything).</summary>
public struct DenseTarget : IMatrixTarget
{
    public ArrayView<float> Data;
    public int Offset, BatchStride, Ld;
    public float Alpha, Beta;

    public readonly void Store(int z, int row, int col, float product)
    {
        int i = Offset + z * BatchStride + row * Ld + col;
        Data[i] = Beta == 0f ? Alpha * product : Alpha * product + Beta * Data[i];
    }
}
