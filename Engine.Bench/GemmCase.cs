namespace Engine.Bench;

/// <summary>C (m x n) = op(A) op(B) over k, op "NN", "NT" or "TN". The case is "name op mxnxk".</summary>
public sealed record GemmCase(string Name, string Op, int M, int N, int K)
{
    public bool TransA => Op[0] == 'T';

    public bool TransB => Op[1] == 'T';

    public string Case => $"{Name} {Op} {M}x{N}x{K}";

    public double Flops => 2.0 * M * N * K;
}
