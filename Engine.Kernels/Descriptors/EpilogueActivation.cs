namespace Engine.Kernels;

/// <summary>
/// An activation a GEMM or convolution kernel applies to its own output (an epilogue), so that the graph runs
/// no separate activation operator: the fusion pass sets it on FullyConnected and Convolution.
/// </summary>
public enum EpilogueActivation
{
    None,
    Relu,
    Sigmoid,
    Tanh,
}
