namespace Engine.Graphs.Passes;

/// <summary>
/// A graph pass: a small sealed class that says which graph properties it needs and which it provides, and maps a
/// graph to a new one (graphs are not changed in place). <see cref="PassPipeline"/> checks the requirements and
/// verifies the graph after every pass.
/// </summary>
public interface IGraphPass
{
    string Name { get; }

    /// <summary>Properties that must hold before the pass runs ("types", "gradients").</summary>
    IReadOnlyList<string> Requires { get; }

    /// <summary>Properties that hold after it.</summary>
    IReadOnlyList<string> Provides { get; }

    Graph Run(Graph graph);
}

/// <summary>Runs passes in order, checking each one's requirements and verifying the graph after it.</summary>
public sealed class PassPipeline(params IGraphPass[] passes)
{
    /// <summary>Every graph the engine builds by tracing has known types.</summary>
    public static readonly IReadOnlyList<string> TracedProperties = ["types"];

    public Graph Run(Graph graph, IEnumerable<string>? properties = null)
    {
        var have = new HashSet<string>(properties ?? TracedProperties, StringComparer.Ordinal);
        foreach (var pass in passes)
        {
            var missing = pass.Requires.Where(r => !have.Contains(r)).ToList();
            if (missing.Count > 0)
                throw new InvalidOperationException(
                    $"graph pass {pass.Name} needs {string.Join(", ", missing)}, which no earlier pass provides.");
            graph = pass.Run(graph);
            graph.Verify();
            have.UnionWith(pass.Provides);
        }
        return graph;
    }
}
