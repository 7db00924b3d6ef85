namespace Engine.Kernels.Cpu;

/// <summary>Which implementation <see cref="CpuConvolution"/> runs; tests force each one in turn.</summary>
internal enum CpuConvolutionPath
{
    /// <summary>Chosen per layer from its shape.</summary>
    Auto,

    /// <summary>Small im2col tiles through the unpacked product of CpuConvolution.Gemm.cs.</summary>
    Tiles,

    /// <summary>Blocks of images through the packed GEMM of <see cref="CpuGemm"/>.</summary>
    Packed,

    /// <summary>The direct kernel where it applies (float forward), else packed.</summary>
    Direct,
}
