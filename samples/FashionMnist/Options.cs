using System.Globalization;

namespace Engine.Samples.FashionMnist;

/// <summary>Command-line options of the trainer.</summary>
public sealed record Options
{
    public string Model { get; init; } = "mlp";
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 64;
    public double? LearningRate { get; init; }
    public string Optimizer { get; init; } = "adam";
    public string? Data { get; init; }
    public int? Limit { get; init; }
    public int Seed { get; init; } = 42;
    public string? Save { get; init; }
    public bool Hybridize { get; init; }
    public string? Export { get; init; }
    public Device Device { get; init; } = Device.Cpu;

    public const string Usage =
        "usage: dotnet run -c Release --project samples/FashionMnist -- [--model mlp|lenet] [--epochs N] " +
        "[--batch-size B] [--lr X] [--optimizer sgd|adam] [--data DIR] [--limit N] [--seed S] [--save FILE] " +
        "[--hybridize] [--export PREFIX] [--device cpu|cuda:N|gpusim]";

    public double EffectiveLearningRate => LearningRate ?? (Optimizer == "adam" ? 0.001 : 0.05);

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string flag = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw Error($"{flag} needs a value.");
            o = flag switch
            {
                "--model" => o with { Model = OneOf(flag, Value(), "mlp", "lenet") },
                "--epochs" => o with { Epochs = PositiveInt(flag, Value()) },
                "--batch-size" => o with { BatchSize = PositiveInt(flag, Value()) },
                "--lr" => o with { LearningRate = PositiveDouble(flag, Value()) },
                "--optimizer" => o with { Optimizer = OneOf(flag, Value(), "sgd", "adam") },
                "--data" => o with { Data = Value() },
                "--limit" => o with { Limit = PositiveInt(flag, Value()) },
                "--seed" => o with
                {
                    Seed = int.TryParse(Value(), out int s) ? s : throw Error("--seed needs an integer."),
                },
                "--save" => o with { Save = Value() },
                "--hybridize" => o with { Hybridize = true },
                "--export" => o with { Export = Value() },
                "--device" => o with { Device = ParseDevice(Value()) },
                "-h" or "--help" => throw new ArgumentException(Usage),
                _ => throw Error($"unknown option '{flag}'."),
            };
        }
        return o;
    }

    /// <summary>
    /// Checks that <see cref="Save"/> can be written before hours of training depend on it: the folder exists, the
    /// path is not a folder, and a file can be created there.
    /// </summary>
    public void CheckSave()
    {
        if (Save is null) return;
        string full = Path.GetFullPath(Save);
        string folder = Path.GetDirectoryName(full) ?? throw Error($"--save: '{Save}' names no file.");
        if (!Directory.Exists(folder))
            throw Error($"--save: the folder '{folder}' does not exist; create it first.");
        if (Directory.Exists(full))
            throw Error($"--save: '{full}' is a folder; give a file name such as " +
                $"'{Path.Combine(full, "model.params")}'.");
        string probe = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.probe");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error($"--save: cannot write in '{folder}' ({e.Message}).");
        }
    }

    private static ArgumentException Error(string message) => new($"{message} Run with --help for the options.");

    private static Device ParseDevice(string value)
    {
        try
        {
            return Device.Parse(value);
        }
        catch (ArgumentException e)
        {
            throw Error($"--device: {e.Message}");
        }
    }

    private static string OneOf(string flag, string value, params string[] allowed) =>
        allowed.Contains(value)
            ? value
            : throw Error($"{flag} must be one of {string.Join(", ", allowed)}, not '{value}'.");

    private static int PositiveInt(string flag, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v : throw Error($"{flag} needs a positive integer, not '{value}'.");

    private static double PositiveDouble(string flag, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 &&
        double.IsFinite(v)
            ? v : throw Error($"{flag} needs a positive finite number, not '{value}'.");
}
