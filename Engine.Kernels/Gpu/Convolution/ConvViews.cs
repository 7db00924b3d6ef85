using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>The operands of a convolution seen as matrices by the tiled GEMM kernel (implicit GEMM).</summary>
public static class ConvViews
{
    /// <summary>The input x (N, C, H, W), contiguous.</summary>
    public struct Input
    {
        public ArrayView<float> Data;
    }

    /// <summary>Group z's im2col matrix (Cg R S x N OH OW), computed on the fly from x.</summary>
    public struct Columns : IMatrixSource
    {
        public Input X;
        public ConvGeometry Geometry;

        public readonly float Load(int z, int row, int col) => Geometry.Im2Col(X, z, row, col);
    }

    /// <summary>The transpose of <see cref="Columns"/> (N OH OW x Cg R S), for the weight gradient.</summary>
    public struct ColumnsTransposed : IMatrixSource
    {
        public Input X;
        public ConvGeometry Geometry;

        public readonly float Load(int z, int row, int col) => Geometry.Im2Col(X, z, col, row);
    }

    /// <summary>Group z's slice of dy (N, K, OH, OW) as a Kg x N OH OW matrix.</summary>
    public struct OutputGradient : IMatrixSource
    {
        public ArrayView<float> Data;
        public ConvGeometry Geometry;

        public readonly float Load(int z, int row, int col)
        {
            int ohw = Geometry.OH * Geometry.OW;
            int n = col / ohw, q = col - n * ohw;
            return Data[(n * Geometry.K + z * Geometry.Kg + row) * ohw + q];
        }
    }

    /// <summary>Writes group z's Kg x N OH OW product into y (N, K, OH, OW), plus the bias when there is one.
    /// </summary>
    public struct Output : IMatrixTarget
    {
        public ArrayView<float> Data;
        public ArrayView<float> Bias;
        public int HasBias;
        public ConvGeometry Geometry;

        public readonly void Store(int z, int row, int col, float product)
        {
            int ohw = Geometry.OH * Geometry.OW;
            int n = col / ohw, q = col - n * ohw;
            int k = z * Geometry.Kg + row;
            Data[(n * Geometry.K + k) * ohw + q] = HasBias != 0 ? product + Bias[k] : product;
        }
    }
}
