using System.Reflection;

namespace Engine.Ops;

/// <summary>Marks a static class whose public static OpDef fields and properties are registered operators.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class OpTableAttribute : Attribute;

/// <summary>Every operator, found once by reflection over the [OpTable] classes of this assembly.</summary>
public static class OpRegistry
{
    private static readonly Lazy<IReadOnlyDictionary<string, OpDef>> all = new(Discover);

    public static IReadOnlyDictionary<string, OpDef> All => all.Value;

    public static OpDef Get(string name) =>
        All.TryGetValue(name, out var op) ? op : throw new KeyNotFoundException(
            $"operator '{name}' is not registered; known operators: {string.Join(", ", All.Keys.Order())}.");

    private static IReadOnlyDictionary<string, OpDef> Discover()
    {
        var result = new Dictionary<string, OpDef>();
        foreach (var type in typeof(OpRegistry).Assembly.GetTypes())
        {
            if (type.GetCustomAttribute<OpTableAttribute>() is null) continue;
            const BindingFlags flags = BindingFlags.Public | BindingFlags.Static;
            var values = type.GetFields(flags).Where(f => typeof(OpDef).IsAssignableFrom(f.FieldType))
                .Select(f => (OpDef?)f.GetValue(null))
                .Concat(type.GetProperties(flags).Where(p => typeof(OpDef).IsAssignableFrom(p.PropertyType))
                    .Select(p => (OpDef?)p.GetValue(null)));
            foreach (var op in values)
            {
                if (op is null) continue;
                if (result.TryGetValue(op.Name, out var existing) && !ReferenceEquals(existing, op))
                    throw new InvalidOperationException($"operator '{op.Name}' is defined twice ({type.Name}).");
                result[op.Name] = op;
            }
        }
        return result;
    }
}
