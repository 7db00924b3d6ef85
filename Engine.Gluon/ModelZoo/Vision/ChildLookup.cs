namespace Engine.Gluon.Vision;

/// <summary>
/// Typed access to children registered by name. The zoo's networks register their children with RegisterChild
/// instead of holding them in fields: MXNet names a child in the scope where it is created (the stage's, or the
/// network's), in the order of creation, while a field would name it under the block that holds it.
/// </summary>
internal static class ChildLookup
{
    /// <summary>The child registered under <paramref name="name"/>, or null when there is none.</summary>
    public static T? Find<T>(Block owner, string name) where T : Block
    {
        foreach (var (key, child) in owner.Children)
        {
            if (key == name) return (T)child;
        }
        return null;
    }

    /// <summary>The child registered under <paramref name="name"/>.</summary>
    public static T Get<T>(Block owner, string name) where T : Block =>
        Find<T>(owner, name) ?? throw new InvalidOperationException(
            $"{owner.GetType().Name} '{owner.Name}' has no child '{name}'.");
}
