using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Engine.Bench;

/// <summary>
/// tools/bench/torch_baseline.py --serve as a child process: PyTorch timing the same cases on request, one turn at a
/// time. The child inherits this process's environment, so the instruction-set settings (OPENBLAS_CORETYPE,
/// ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA) reach it, with OMP_WAIT_POLICY=PASSIVE added unless the caller sets a
/// policy; it sets its own thread count from --threads. Every reply is
/// awaited at most <see cref="ReplyTimeout"/>; a child that dies, hangs or refuses a case ends the run with a
/// <see cref="PeerFailedException"/> that names the failure and quotes the child's last lines of stderr.
/// </summary>
public sealed class TorchPeer : IDisposable
{
    /// <summary>
    /// Longest wait for one reply: importing torch, or one ResNet-18 step set up and run, took up to a minute at
    /// load averages of 100-300 on 2 cores; five minutes means the child is stuck, not slow.
    /// </summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(5);

    private const string Script = "tools/bench/torch_baseline.py";

    private const int StderrLines = 20;

    private readonly Process process;
    private readonly Queue<string> stderrTail = new();

    private TorchPeer(Process process)
    {
        this.process = process;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderrTail)
            {
                stderrTail.Enqueue(e.Data);
                if (stderrTail.Count > StderrLines) stderrTail.Dequeue();
            }
            Console.Error.WriteLine($"  torch: {e.Data}");
        };
        process.BeginErrorReadLine();
    }

    /// <summary>The child's versions and instruction-set paths, from its ready line.</summary>
    public string Description { get; private set; } = "";

    /// <summary>Starts the child with <paramref name="threads"/> threads and waits until torch is imported.</summary>
    public static TorchPeer Start(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        string script = FindScript() ?? throw new PeerFailedException(
            $"cannot find {Script} above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; run " +
            "Engine.Bench from the repository.");
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { script, "--serve", "--threads", threads.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        // PyTorch's OpenMP workers (libgomp) spin at every barrier by default; on a loaded machine a spinning worker
        // holds a core while its partner waits for one, and two-thread steps ran 5-40x slower than with workers
        // that sleep (docs/performance.md). A policy the caller sets is kept.
        start.Environment.TryAdd("OMP_WAIT_POLICY", "PASSIVE");
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception e)
        {
            throw new PeerFailedException($"cannot start {python} ({e.Message}); install Python 3 and PyTorch " +
                "(Debian: apt-get install python3-torch).");
        }
        var peer = new TorchPeer(process ?? throw new PeerFailedException($"cannot start {python}."));
        try
        {
            using var ready = JsonDocument.Parse(peer.ReadLine("its ready line (importing torch)"));
            var root = ready.RootElement;
            if (!root.TryGetProperty("ready", out _))
                throw new PeerFailedException($"{Script} --serve began with '{root}', not its ready line.");
            peer.Description = $"torch {root.GetProperty("torch")}, {root.GetProperty("threads")} threads, " +
                $"ATen {root.GetProperty("aten")}, OpenBLAS core {root.GetProperty("openblas_core")}, " +
                $"OMP_WAIT_POLICY {root.GetProperty("omp_wait_policy")}";
            return peer;
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="caseName"/> of <paramref name="suite"/> (the torch_baseline.py suite and case names):
    /// samples of <paramref name="calls"/> calls, <paramref name="amount"/> of them ("3") or as many as fill that
    /// many seconds ("0.1s"). Returns the per-call ms of each sample. The child sets the case up on its first run.
    /// </summary>
    public IReadOnlyList<double> Run(string suite, string caseName, string amount, int calls)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(calls, 1);
        try
        {
            process.StandardInput.WriteLine($"run {suite} {amount} {calls} {caseName}");
            process.StandardInput.Flush();
        }
        catch (IOException)
        {
            throw Died($"while sending it case '{caseName}'");
        }
        using var reply = JsonDocument.Parse(ReadLine($"its times for case '{caseName}'"));
        var root = reply.RootElement;
        if (root.TryGetProperty("error", out var error))
            throw new PeerFailedException($"PyTorch could not run case '{caseName}': {error.GetString()}");
        return root.GetProperty("times_ms").EnumerateArray().Select(t => t.GetDouble()).ToArray();
    }

    private string ReadLine(string waitingFor)
    {
        var line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(ReplyTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new PeerFailedException($"{Script} --serve sent nothing for {ReplyTimeout.TotalSeconds:F0} s " +
                $"while Engine.Bench waited for {waitingFor}; it was stopped.{Tail()}");
        }
        return line.Result ?? throw Died($"before sending {waitingFor}");
    }

    private PeerFailedException Died(string when)
    {
        process.WaitForExit(5000);
        string code = process.HasExited ? $"exit code {process.ExitCode}" : "still running";
        return new PeerFailedException($"{Script} --serve ended {when} ({code}). If it cannot import torch, install " +
            $"Debian's python3-torch and keep /usr/bin/python3.{Tail()}");
    }

    private string Tail()
    {
        process.WaitForExit(1000); // lets the last stderr lines arrive
        lock (stderrTail)
        {
            return stderrTail.Count == 0 ? "" : "\nIts last lines of stderr:\n  " + string.Join("\n  ", stderrTail);
        }
    }

    /// <summary>Sends quit and waits for the child to end; stops it after ten seconds.</summary>
    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.StandardInput.WriteLine("quit");
                process.StandardInput.Close();
            }
        }
        catch (IOException)
        {
            // It has already gone.
        }
        if (!process.WaitForExit(10_000)) process.Kill(entireProcessTree: true);
        process.Dispose();
    }

    private static string? FindScript()
    {
        foreach (string from in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            {
                string path = Path.Combine(dir.FullName, Script);
                if (File.Exists(path)) return path;
            }
        }
        return null;
    }
}
