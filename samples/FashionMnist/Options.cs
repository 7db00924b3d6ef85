using System.Globalization;

namespace Engine.Samples.FashionMnist;

/// <summary>Command-line options of the trainer.</summary>
public sealed record Options
{
    public string Model { get; init; } = "mlp";
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 256;
    public double? LearningRate { get; init; }
    public string Optimizer { get; init; } = "sgd";
    public string? Data { get; init; }
    public int? Limit { get; init; }
    public int Seed { get; init; } = 42;
    public string? Save { get; init; }

    public const string Usage =
        "usage: dotnet run -c Release --project samples/FashionMnist -- [--model mlp|lenet] [--epochs N] " +
        "[--batch-size B] [--lr X] [--optimizer sgd|adam] [--data DIR] [--limit N] [--seed S] [--save FILE]";

    public double EffectiveLearningRate => LearningRate ?? (Optimizer == "adam" ? 0.001 : Model == "lenet" ? 0.1 : 0.1);

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string flag = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{flag} needs a value.\n{Usage}");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
                ? v : throw new ArgumentException($"{flag} needs a positive integer.\n{Usage}");
            o = flag switch
            {
                "--model" => o with { Model = Value() is "mlp" or "lenet" ? args[i] : throw new ArgumentException($"--model must be mlp or lenet.\n{Usage}") },
                "--epochs" => o with { Epochs = Int() },
                "--batch-size" => o with { BatchSize = Int() },
                "--lr" => o with { LearningRate = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double lr) && lr > 0 ? lr : throw new ArgumentException($"--lr needs a positive number.\n{Usage}") },
                "--optimizer" => o with { Optimizer = Value() is "sgd" or "adam" ? args[i] : throw new ArgumentException($"--optimizer must be sgd or adam.\n{Usage}") },
                "--data" => o with { Data = Value() },
                "--limit" => o with { Limit = Int() },
                "--seed" => o with { Seed = int.TryParse(Value(), out int s) ? s : throw new ArgumentException($"--seed needs an integer.\n{Usage}") },
                "--save" => o with { Save = Value() },
                "-h" or "--help" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown option '{flag}'.\n{Usage}"),
            };
        }
        return o;
    }
}
