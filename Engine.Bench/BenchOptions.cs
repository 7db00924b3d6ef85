namespace Engine.Bench;

/// <summary>
/// The command line: SUITE [--threads N] [--device DEVICE] [--repeat R] [--budget SECONDS] [--filter TEXT]
/// [--out FILE] [--list] [--profile] [--profile-shapes]. DEVICE is what <see cref="Engine.Device.Parse"/> reads: cpu
/// (the default), cuda:N, gpusim or opencl:N. <see cref="Parse"/> validates everything and explains what is wrong.
/// </summary>
public sealed record BenchOptions(string Suite, int Threads, Device Device, int Repeat, double BudgetSeconds,
    string? Filter, string? OutFile, bool ListOnly = false, bool Profile = false, bool ProfileShapes = false)
{
    public const string Usage =
        "usage: Engine.Bench SUITE [--threads N] [--device cpu|cuda:N|gpusim|opencl:N] [--repeat R] " +
        "[--budget SECONDS] [--filter TEXT] [--out FILE] [--list] [--profile] [--profile-shapes]";

    /// <summary>Parses the arguments after the suite name; throws <see cref="ArgumentException"/> on bad input.
    /// </summary>
    public static BenchOptions Parse(string suite, IReadOnlyList<string> args)
    {
        int threads = 1, repeat = 30;
        double budget = 2.0;
        var device = Device.Cpu;
        string? filter = null, outFile = null;
        bool listOnly = false, profile = false, profileShapes = false;
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count
                ? args[++i]
                : throw new ArgumentException($"option {name} needs a value; {Usage}");
            switch (name)
            {
                case "--threads": threads = PositiveInt(name, Value()); break;
                case "--repeat": repeat = PositiveInt(name, Value()); break;
                case "--budget": budget = PositiveDouble(name, Value()); break;
                case "--device": device = ParseDevice(Value()); break;
                case "--filter": filter = Value(); break;
                case "--out": outFile = Value(); break;
                case "--list": listOnly = true; break;
                case "--profile": profile = true; break;
                case "--profile-shapes": profile = profileShapes = true; break;
                default: throw new ArgumentException($"unknown option '{name}'; {Usage}");
            }
        }
        return new BenchOptions(suite, threads, device, repeat, budget, filter, outFile, listOnly, profile,
            profileShapes);
    }

    private static Device ParseDevice(string text)
    {
        try
        {
            return Device.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"option --device: {e.Message}", e);
        }
    }

    private static int PositiveInt(string option, string text) =>
        int.TryParse(text, out int value) && value >= 1
            ? value
            : throw new ArgumentException($"option {option} needs a positive integer, got '{text}'.");

    private static double PositiveDouble(string option, string text) =>
        double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out double value) && value > 0
            ? value
            : throw new ArgumentException($"option {option} needs a positive number of seconds, got '{text}'.");
}
