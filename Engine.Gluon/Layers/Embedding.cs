using Engine.Gluon.Initializers;

namespace Engine.Gluon.NN;

/// <summary>Maps integer indices to rows of a (inputDim, outputDim) weight (MXNet's nn.Embedding).</summary>
public class Embedding : HybridBlock
{
    private readonly Parameter weight;

    public Embedding(int inputDim, int outputDim, DType dtype = DType.Float32, Initializer? weightInitializer = null,
        string? prefix = null, ParameterDict? @params = null) : base(prefix, @params)
    {
        if (inputDim <= 0 || outputDim <= 0)
            throw new ArgumentException(
                $"Embedding: input_dim and output_dim must be positive, got {inputDim}, {outputDim}.");
        InputDim = inputDim;
        OutputDim = outputDim;
        weight = Params.Get("weight", new Shape(inputDim, outputDim), weightInitializer, dtype);
    }

    public int InputDim { get; }

    public int OutputDim { get; }

    public Parameter Weight => weight;

    public override NDArray Forward(NDArray x) => Nd.Embedding(x, weight.Data(x.Device));

    public override string ToString() => $"Embedding({InputDim} -> {OutputDim}, {weight.DType.Name()})";
}
