namespace Engine.Graphs.Passes;

/// <summary>
/// Removes what no output depends on: operator nodes, constants and parameters. Inputs stay (they are bound by
/// position), even when unused.
/// </summary>
public sealed class DeadCodePass : IGraphPass
{
    public string Name => "dead-code";

    public IReadOnlyList<string> Requires => [];

    public IReadOnlyList<string> Provides => ["no-dead-code"];

    public Graph Run(Graph graph) => new(graph.Inputs, graph.Outputs);
}
