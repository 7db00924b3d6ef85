using System.Globalization;

namespace Engine.Samples.CharLstm;

/// <summary>Command-line options of the character-level language model.</summary>
public sealed record Options
{
    public string Corpus { get; init; } = "/usr/share/common-licenses/GPL-3";
    public int Epochs { get; init; } = 8;
    public int Hidden { get; init; } = 256;
    public int Layers { get; init; } = 1;
    public int SeqLen { get; init; } = 35;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 0.005;
    public int Seed { get; init; } = 7;
    public int Generate { get; init; } = 200;
    public string Prefix { get; init; } = "This License ";

    public const string Usage =
        "usage: dotnet run -c Release --project samples/CharLstm -- [--corpus FILE] [--epochs N] [--hidden H] " +
        "[--layers L] [--seq-len T] [--batch-size N] [--lr X] [--seed S] [--generate N] [--prefix TEXT]";

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string flag = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw Error($"{flag} needs a value.");
            o = flag switch
            {
                "--corpus" => o with { Corpus = Value() },
                "--epochs" => o with { Epochs = PositiveInt(flag, Value()) },
                "--hidden" => o with { Hidden = PositiveInt(flag, Value()) },
                "--layers" => o with { Layers = PositiveInt(flag, Value()) },
                "--seq-len" => o with { SeqLen = PositiveInt(flag, Value()) },
                "--batch-size" => o with { BatchSize = PositiveInt(flag, Value()) },
                "--lr" => o with { LearningRate = PositiveDouble(flag, Value()) },
                "--seed" => o with
                {
                    Seed = int.TryParse(Value(), out int s) ? s : throw Error("--seed needs an integer."),
                },
                "--generate" => o with { Generate = PositiveInt(flag, Value()) },
                "--prefix" => o with { Prefix = Value() },
                "--help" or "-h" => throw new ArgumentException(Usage),
                _ => throw Error($"unknown option '{flag}'."),
            };
        }
        return o;
    }

    private static ArgumentException Error(string message) => new($"{message}\n{Usage}");

    private static int PositiveInt(string flag, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
            : throw Error($"{flag} needs a positive integer, got '{value}'.");

    private static double PositiveDouble(string flag, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 &&
        double.IsFinite(v) ? v : throw Error($"{flag} needs a positive finite number, got '{value}'.");
}
