namespace Engine.Bench;

/// <summary>A layer op on one array shape; the case is "op name shape pass".</summary>
public sealed record LayerCase(string Op, string Name, int[] Shape)
{
    public string Case(string pass) => $"{Op} {Name} {string.Join("x", Shape)} {pass}";
}
