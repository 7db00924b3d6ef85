namespace Engine.IO;

/// <summary>
/// Atomic file writes: the bytes go to a temporary file in the target's folder (<c>.NAME.GUID.tmp</c>), which
/// replaces the target only once complete and flushed, so a full disk, an exception or a killed process never
/// destroys the previous file. Errors name the target, not the temporary file. Temporary files that a killed save
/// left behind (older than <see cref="StaleAfter"/>) are deleted by the next save of the same target.
/// </summary>
public static class AtomicFile
{
    /// <summary>How old a leftover temporary file must be before a later save deletes it. A save in progress
    /// writes its temporary file continuously, so an hour without a write means its writer is gone.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; <paramref name="owner"/> (such as
    /// "NpyFile.Write") begins every error message.</summary>
    public static void Write(string path, string owner, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)
            ?? throw new ArgumentException($"{owner}: '{path}' names no file.", nameof(path));
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException(
                $"{owner}: the folder '{folder}' does not exist; create it before saving '{path}'.");
        if (Directory.Exists(full))
            throw new IOException($"{owner}: '{full}' is a folder; give a file name inside it.");
        string name = Path.GetFileName(full);
        DeleteStaleTemporaries(folder, name);
        string temp = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            if (e is IOException or UnauthorizedAccessException)
                throw new IOException($"{owner}: cannot write '{full}' ({e.Message.Replace(temp, full)}); the " +
                    "previous file, if any, is unchanged.", e);
            throw;
        }
    }

    /// <summary>Deletes leftover <c>.NAME.GUID.tmp</c> files of this target not written for
    /// <see cref="StaleAfter"/>.</summary>
    internal static void DeleteStaleTemporaries(string folder, string name)
    {
        var cutoff = DateTime.UtcNow - StaleAfter;
        try
        {
            foreach (string file in Directory.EnumerateFiles(folder, $".{name}.*.tmp"))
            {
                string middle = Path.GetFileName(file)[(name.Length + 2)..^4];
                if (middle.Length == 32 && middle.All(Uri.IsHexDigit) && File.GetLastWriteTimeUtc(file) < cutoff)
                    TryDelete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Cleaning up is a courtesy; the save itself goes on.
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind; the target is untouched either way, and a later save removes it once stale.
        }
    }
}
