using System.Globalization;
using Engine.Gluon.LRSchedulers;

namespace Engine.Gluon.Optimizers;

/// <summary>
/// Reads the options dictionary of <see cref="Optimizer.Create"/> (MXNet's keyword arguments: learning_rate, wd,
/// momentum, ...), checking each value's type and naming the optimizer and option in every error.
/// </summary>
internal sealed class OptimizerOptions
{
    private readonly string optimizer;
    private readonly IDictionary<string, object> values;

    public OptimizerOptions(string optimizer, IDictionary<string, object>? values)
    {
        this.optimizer = optimizer;
        this.values = values ?? new Dictionary<string, object>();
    }

    /// <summary>Throws for any key the optimizer does not take, listing the accepted ones.</summary>
    public void CheckKnown(IReadOnlyCollection<string> accepted)
    {
        foreach (string key in values.Keys)
        {
            if (accepted.Contains(key)) continue;
            string? close = accepted.FirstOrDefault(a => string.Equals(a, key, StringComparison.OrdinalIgnoreCase))
                ?? accepted.MinBy(a => Distance(a, key));
            string hint = close is not null && (string.Equals(close, key, StringComparison.OrdinalIgnoreCase)
                || Distance(close, key) <= 2) ? $" Did you mean '{close}'?" : "";
            throw new ArgumentException(
                $"Optimizer.Create(\"{optimizer}\"): unknown option '{key}'.{hint} {optimizer} accepts: " +
                $"{string.Join(", ", accepted.Order(StringComparer.Ordinal))}.", nameof(values));
        }
    }

    public double? Double(string key)
    {
        if (!values.TryGetValue(key, out object? v) || v is null) return null;
        return v switch
        {
            double d => d,
            float f => f,
            int i => i,
            long l => l,
            decimal m => (double)m,
            short s => s,
            byte b => b,
            uint u => u,
            _ => throw WrongType(key, "a number", v),
        };
    }

    public int? Int(string key)
    {
        if (!values.TryGetValue(key, out object? v) || v is null) return null;
        return v switch
        {
            int i => i,
            long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
            short s => s,
            byte b => b,
            double d when d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
            _ => throw WrongType(key, "a whole number", v),
        };
    }

    public bool? Bool(string key)
    {
        if (!values.TryGetValue(key, out object? v) || v is null) return null;
        return v is bool b ? b : throw WrongType(key, "true or false", v);
    }

    public LRScheduler? Scheduler(string key)
    {
        if (!values.TryGetValue(key, out object? v) || v is null) return null;
        return v as LRScheduler ?? throw WrongType(key, "an LRScheduler (FactorScheduler, CosineScheduler, ...)", v);
    }

    private ArgumentException WrongType(string key, string expected, object value) => new(
        $"Optimizer.Create(\"{optimizer}\"): option '{key}' must be {expected}, got {value.GetType().Name} " +
        $"{Convert.ToString(value, CultureInfo.InvariantCulture)}.", nameof(values));

    // Levenshtein distance, for "did you mean" hints on misspelt option names.
    private static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) row[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
