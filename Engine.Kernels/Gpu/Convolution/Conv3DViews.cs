using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>The operands of a 3-D convolution seen as matrices by the tiled GEMM kernel (implicit GEMM).</summary>
public static class Conv3DViews
{
    /// <summary>Group z's vol2col matrix (Cg T R S x N OD OH OW), computed on the fly from x (N, C, D, H, W).
    /// </summary>
    public struct Columns : IMatrixSource
    {
        public ArrayView<float> X;
        public Conv3DGeometry Geometry;

        public readonly float Load(int z, int row, int col) => Geometry.Vol2Col(X, z, row, col);
    }

    /// <summary>The transpose of <see cref="Columns"/> (N OD OH OW x Cg T R S), for the weight gradient.</summary>
    public struct ColumnsTransposed : IMatrixSource
    {
        public ArrayView<float> X;
        public Conv3DGeometry Geometry;

        public readonly float Load(int z, int row, int col) => Geometry.Vol2Col(X, z, col, row);
    }

    /// <summary>Group z's slice of dy (N, K, OD, OH, OW) as a Kg x N OD OH OW matrix.</summary>
    public struct OutputGradient : IMatrixSource
    {
        public ArrayView<float> Data;
        public Conv3DGeometry Geometry;

        public readonly float Load(int z, int row, int col)
        {
            int volume = Geometry.OutputVolume;
            int n = col / volume, q = col - n * volume;
            return Data[(n * Geometry.K + z * Geometry.Kg + row) * volume + q];
        }
    }

    /// <summary>Writes group z's Kg x N OD OH OW product into y (N, K, OD, OH, OW), plus the bias when there is one.
    /// </summary>
    public struct Output : IMatrixTarget
    {
        public ArrayView<float> Data;
        public ArrayView<float> Bias;
        public int HasBias;
        public Conv3DGeometry Geometry;

        public readonly void Store(int z, int row, int col, float product)
        {
            int volume = Geometry.OutputVolume;
            int n = col / volume, q = col - n * volume;
            int k = z * Geometry.Kg + row;
            Data[(n * Geometry.K + k) * volume + q] = HasBias != 0 ? product + Bias[k] : product;
        }
    }
}
