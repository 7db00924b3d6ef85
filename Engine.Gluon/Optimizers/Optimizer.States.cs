using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;
using Engine.IO;

namespace Engine.Gluon.Optimizers;

/// <summary>
/// Saving and loading of the per-index states and update counts. The file is a zip archive that NumPy reads with
/// <c>np.load</c> (docs/optimizers.md describes it):
/// <list type="bullet">
/// <item><c>meta.json</c>: format, version, optimizer name, state names, num_update, begin_num_update, and one
/// record per index (index, count, and the dtype and shape of its states);</item>
/// <item><c>INDEX.STATE.npy</c> (for example <c>3.mean.npy</c>): one .npy array per index and state name.</item>
/// </list>
/// Entries are stored uncompressed; the reader checks each entry's CRC-32.
/// </summary>
public abstract partial class Optimizer
{
    private const string FormatName = "engine-optimizer-states";
    private const int FormatVersion = 1;
    private const string MetaEntry = "meta.json";
    private const long MaxMetaBytes = 64L << 20;
    private const long MaxNpyHeaderBytes = 1L << 16;

    /// <summary>
    /// Writes every index's state and update count, NumUpdate and BeginNumUpdate to <paramref name="path"/>. The
    /// write is atomic: a temporary file in the same folder replaces the target only once complete.
    /// Hyperparameters and the scheduler are not saved; the code that builds the optimizer supplies them.
    /// </summary>
    public void SaveStates(string path)
    {
        AtomicFile.Write(path, $"{GetType().Name}.SaveStates", stream => SaveStates(stream));
    }

    /// <summary>Writes the states archive to <paramref name="stream"/> (left open).</summary>
    public void SaveStates(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
            throw new ArgumentException($"{GetType().Name}.SaveStates: the stream is not writable.", nameof(stream));
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        using (var meta = zip.CreateEntry(MetaEntry, CompressionLevel.NoCompression).Open())
            WriteMeta(meta);
        foreach (int index in Indices)
        {
            if (!states.TryGetValue(index, out var state)) continue;
            for (int k = 0; k < state.Length; k++)
            {
                using var entry = zip.CreateEntry(StateEntry(index, StateNames[k]), CompressionLevel.NoCompression)
                    .Open();
                NpyFile.Write(entry, ToNpy(state[k]));
            }
        }
    }

    /// <summary>
    /// Replaces every state and update count with those saved in <paramref name="path"/> by SaveStates. The file is
    /// checked completely before anything changes; a damaged file or one from another optimizer is an error that
    /// names the file and the problem, and leaves this optimizer as it was.
    /// </summary>
    public void LoadStates(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{GetType().Name}.LoadStates: the file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        LoadStates(stream, path);
    }

    /// <summary>
    /// Loads a states archive from <paramref name="stream"/>; <paramref name="name"/> names it in errors.
    /// </summary>
    public void LoadStates(Stream stream, string name = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
            throw new ArgumentException($"{GetType().Name}.LoadStates: the stream is not readable.", nameof(stream));
        var loaded = ReadStates(stream, name);
        foreach (var state in states.Values)
            foreach (var array in state) array.Dispose();
        states.Clear();
        updateCounts.Clear();
        foreach (var (index, count, arrays) in loaded.Indices)
        {
            updateCounts[index] = count;
            states[index] = arrays;
        }
        beginNumUpdate = loaded.BeginNumUpdate;
        NumUpdate = loaded.NumUpdate;
    }

    private static string StateEntry(int index, string stateName) => $"{index}.{stateName}.npy";

    private void WriteMeta(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", FormatName);
        json.WriteNumber("version", FormatVersion);
        json.WriteString("optimizer", Name);
        json.WriteStartArray("state_names");
        foreach (string s in StateNames) json.WriteStringValue(s);
        json.WriteEndArray();
        json.WriteNumber("num_update", NumUpdate);
        json.WriteNumber("begin_num_update", beginNumUpdate);
        json.WriteStartArray("indices");
        foreach (int index in Indices)
        {
            json.WriteStartObject();
            json.WriteNumber("index", index);
            json.WriteNumber("count", GetUpdateCount(index));
            if (states.TryGetValue(index, out var state) && state.Length > 0)
            {
                json.WriteString("dtype", state[0].DType.Name());
                json.WriteStartArray("shape");
                foreach (int d in state[0].Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static NpyArray ToNpy(NDArray array)
    {
        byte[] bytes = array.DType == DType.Float64
            ? MemoryMarshal.AsBytes(array.ToArray<double>().AsSpan()).ToArray()
            : MemoryMarshal.AsBytes(array.ToArray<float>().AsSpan()).ToArray();
        return new NpyArray(array.Shape, array.DType, bytes);
    }

    private sealed record LoadedStates(int NumUpdate, int BeginNumUpdate, List<(int, int, NDArray[])> Indices);

    private LoadedStates ReadStates(Stream stream, string file)
    {
        using var zip = new ZipReader(stream, (problem, e) => Corrupt(file, problem, e), leaveOpen: true);
        var created = new List<NDArray>();
        try
        {
            return ReadArchive(zip, file, created);
        }
        catch
        {
            foreach (var a in created) a.Dispose();
            throw;
        }
    }

    private LoadedStates ReadArchive(ZipReader zip, string file, List<NDArray> created)
    {
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var e in zip.Entries)
        {
            if (!entries.TryAdd(e.FullName, e)) throw Corrupt(file, $"the entry '{e.FullName}' appears twice");
        }
        if (!entries.Remove(MetaEntry, out var metaEntry))
            throw Corrupt(file, $"the '{MetaEntry}' entry is missing (was it written by SaveStates?)");
        using var doc = ParseMeta(zip.Read(metaEntry, MaxMetaBytes), file);
        var meta = doc.RootElement;
        if (meta.ValueKind != JsonValueKind.Object) throw Corrupt(file, $"{MetaEntry} is not a JSON object");
        if (GetString(meta, "format", file) != FormatName)
            throw Corrupt(file, $"{MetaEntry} names format '{GetString(meta, "format", file)}', not '{FormatName}'");
        int version = GetInt(meta, "version", file);
        if (version != FormatVersion)
            throw Corrupt(file, $"it has format version {version}; this build reads version {FormatVersion}");
        string optimizer = GetString(meta, "optimizer", file);
        if (optimizer != Name)
            throw new InvalidOperationException(
                $"{GetType().Name}.LoadStates: '{file}' holds the states of a '{optimizer}' optimizer, but this one " +
                $"is '{Name}'; load it into the optimizer that saved it.");
        var names = GetArray(meta, "state_names", file).Select(n => n.ValueKind == JsonValueKind.String
            ? n.GetString()! : throw Corrupt(file, "state_names must hold strings")).ToArray();
        if (!names.SequenceEqual(StateNames))
            throw new InvalidOperationException(
                $"{GetType().Name}.LoadStates: '{file}' holds states [{string.Join(", ", names)}] per parameter, " +
                $"but this {Name} optimizer keeps [{string.Join(", ", StateNames)}]; build it with the same " +
                "settings (momentum, centered) as the one that saved the file.");
        int numUpdate = GetInt(meta, "num_update", file);
        int begin = GetInt(meta, "begin_num_update", file);
        if (begin < 0 || numUpdate < begin)
            throw Corrupt(file, $"num_update {numUpdate} and begin_num_update {begin} are inconsistent");

        var loaded = new List<(int, int, NDArray[])>();
        var seen = new HashSet<int>();
        foreach (var record in GetArray(meta, "indices", file))
        {
            if (record.ValueKind != JsonValueKind.Object)
                throw Corrupt(file, "each entry of indices must be an object");
            int index = GetInt(record, "index", file);
            int count = GetInt(record, "count", file);
            if (!seen.Add(index)) throw Corrupt(file, $"index {index} is listed twice");
            if (count < 0 || count > numUpdate)
                throw Corrupt(file, $"index {index} has update count {count}, outside [0, num_update {numUpdate}]");
            var arrays = new NDArray[names.Length];
            if (names.Length > 0)
            {
                var (dtype, shape) = GetDTypeAndShape(record, index, file);
                long bytes = shape.Size * dtype.SizeInBytes();
                for (int k = 0; k < names.Length; k++)
                {
                    string entryName = StateEntry(index, names[k]);
                    if (!entries.Remove(entryName, out var entry))
                        throw Corrupt(file,
                            $"the entry '{entryName}' (state '{names[k]}' of index {index}) is missing");
                    var npy = ReadNpy(zip, entry, file, bytes + MaxNpyHeaderBytes);
                    if (npy.DType != dtype || npy.Shape != shape)
                        throw Corrupt(file, $"'{entryName}' holds {npy.DType.Name()}{npy.Shape}, but {MetaEntry} " +
                            $"says {dtype.Name()}{shape}");
                    arrays[k] = ToNDArray(npy);
                    created.Add(arrays[k]);
                }
            }
            loaded.Add((index, count, arrays));
        }
        if (entries.Count > 0)
            throw Corrupt(file, $"it has entries {MetaEntry} does not list: {string.Join(", ", entries.Keys.Order())}");
        return new LoadedStates(numUpdate, begin, loaded);
    }

    private (DType, Shape) GetDTypeAndShape(JsonElement record, int index, string file)
    {
        DType dtype;
        try
        {
            dtype = DTypeExtensions.Parse(GetString(record, "dtype", file));
        }
        catch (ArgumentException e)
        {
            throw Corrupt(file, $"index {index}: {e.Message}", e);
        }
        if (dtype is not (DType.Float32 or DType.Float64))
            throw Corrupt(file, $"index {index} has {dtype.Name()} states; optimizer states are float32 or float64");
        var dims = new List<int>();
        foreach (var d in GetArray(record, "shape", file))
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int n) || n < 0)
                throw Corrupt(file, $"index {index} has a shape with an entry that is not a size >= 0");
            dims.Add(n);
        }
        var shape = new Shape(dims.ToArray());
        long elements = dims.Contains(0) ? 0 : 1;
        foreach (int n in dims)
        {
            if (elements == 0) break;
            elements *= n;
            if (elements * dtype.SizeInBytes() > int.MaxValue)
                throw Corrupt(file, $"index {index} has shape {shape}, too large for one array");
        }
        return (dtype, shape);
    }

    private static NDArray ToNDArray(NpyArray npy)
    {
        var array = npy.DType == DType.Float64
            ? Nd.Array<double>(MemoryMarshal.Cast<byte, double>(npy.Data), npy.Shape)
            : Nd.Array<float>(MemoryMarshal.Cast<byte, float>(npy.Data), npy.Shape);
        return Owned(array);
    }

    private NpyArray ReadNpy(ZipReader zip, ZipArchiveEntry entry, string file, long maxBytes)
    {
        byte[] bytes = zip.Read(entry, maxBytes);
        try
        {
            return NpyFile.Read(new MemoryStream(bytes, writable: false), $"{file}:{entry.FullName}");
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or OverflowException
                                      or ArgumentException or NotSupportedException or OutOfMemoryException)
        {
            throw Corrupt(file, $"the entry '{entry.FullName}' is not a valid .npy array ({e.Message})", e);
        }
    }

    private JsonDocument ParseMeta(byte[] bytes, string file)
    {
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw Corrupt(file, $"{MetaEntry} is not valid JSON ({e.Message})", e);
        }
    }

    private string GetString(JsonElement element, string property, string file) =>
        element.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw Corrupt(file, $"{MetaEntry} lacks the string '{property}'");

    private int GetInt(JsonElement element, string property, string file) =>
        element.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n)
            ? n
            : throw Corrupt(file, $"{MetaEntry} lacks the integer '{property}'");

    private JsonElement.ArrayEnumerator GetArray(JsonElement element, string property, string file) =>
        element.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray()
            : throw Corrupt(file, $"{MetaEntry} lacks the array '{property}'");

    private InvalidDataException Corrupt(string file, string problem, Exception? inner = null) => new(
        $"{GetType().Name}.LoadStates: '{file}' is not a valid optimizer states file: {problem}.", inner);
}
