namespace Engine.Gluon;

/// <summary>
/// Chooses the structural key of a child block or parameter held in a field or auto-property, the name under which
/// SaveParameters stores it and LoadParameters looks for it: <c>[StructuralKey("features")]</c>. Without it the key
/// is the member's name in snake_case (Features: features, ClassPredictors: class_predictors), as MXNet's Python
/// attribute names are.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class StructuralKeyAttribute : Attribute
{
    public StructuralKeyAttribute(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Contains('.'))
            throw new ArgumentException($"StructuralKey: a key may not contain '.', got '{key}'.", nameof(key));
        Key = key;
    }

    public string Key { get; }
}
