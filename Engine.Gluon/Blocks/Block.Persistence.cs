using Engine.IO;

namespace Engine.Gluon;

public abstract partial class Block
{
    /// <summary>
    /// Parameters under structural keys (MXNet's _collect_params_with_prefix): a parameter held in a field is
    /// keyed by its name within the block (weight, running_mean), a child's by the child's attribute name and a
    /// dot, e.g. features.0.weight.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, Parameter>> StructuralParameters()
    {
        var result = new List<KeyValuePair<string, Parameter>>();
        CollectStructural("", result);
        return result;
    }

    private void CollectStructural(string prefix, List<KeyValuePair<string, Parameter>> into)
    {
        EnsureFieldsRegistered();
        foreach (var p in ParameterFieldNames.Keys)
            into.Add(new KeyValuePair<string, Parameter>(prefix + p.LocalName, p));
        foreach (var (name, child) in children) child.CollectStructural(prefix + name + ".", into);
    }

    /// <summary>
    /// Saves the parameters to <paramref name="path"/> in MXNet's .params format under structural keys. The file
    /// is written atomically (a temporary file, then a rename). A parameter shared under several keys is stored
    /// once when <paramref name="deduplicate"/> is set.
    /// </summary>
    public void SaveParameters(string path, bool deduplicate = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var arrays = new List<KeyValuePair<string, NDArray>>();
        foreach (var (key, p) in StructuralParameters())
        {
            if (deduplicate && !seen.Add(p)) continue;
            if (!p.IsInitialized)
                throw new InvalidOperationException(
                    $"SaveParameters: parameter '{p.Name}' (key '{key}') is not initialized; initialize the block " +
                    "and run one forward pass (for deferred shapes) before saving.");
            arrays.Add(new KeyValuePair<string, NDArray>(key, p.Data()));
        }
        MXNetParams.Save(path, arrays);
    }

    /// <summary>
    /// Loads parameters saved by SaveParameters (or MXNet's save_parameters). Missing keys are an error unless
    /// <paramref name="allowMissing"/>, extra keys unless <paramref name="ignoreExtra"/>; a file whose keys have
    /// no dots uses full parameter names (MXNet's legacy path).
    /// </summary>
    public void LoadParameters(string path, Device? device = null, bool allowMissing = false, bool ignoreExtra = false,
        bool castDType = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var loaded = MXNetParams.Load(path);
        try
        {
            var byKey = new Dictionary<string, NDArray>();
            foreach (var (key, value) in loaded) byKey[key] = value;
            bool legacy = byKey.Count > 0 && byKey.Keys.All(k => !k.Contains('.'));
            var targets = legacy
                ? CollectParams().Values.Select(p => new KeyValuePair<string, Parameter>(p.Name, p)).ToList()
                : StructuralParameters().ToList();
            var known = targets.Select(t => t.Key).ToHashSet();
            if (!allowMissing)
            {
                foreach (var (key, p) in targets)
                {
                    if (!byKey.ContainsKey(key) && !targets.Any(t => ReferenceEquals(t.Value, p) && byKey.ContainsKey(t.Key)))
                        throw new InvalidDataException(
                            $"Parameter '{key}' is missing in file '{path}', which contains parameters: " +
                            $"{ParameterDict.Brief(byKey.Keys)}. Set allowMissing: true to ignore missing parameters.");
                }
            }
            if (!ignoreExtra)
            {
                foreach (var key in byKey.Keys)
                {
                    if (!known.Contains(key))
                        throw new InvalidDataException(
                            $"Parameter '{key}' loaded from file '{path}' is not present in ParameterDict, which " +
                            $"contains parameters {ParameterDict.Brief(known)}. Set ignoreExtra: true to ignore.");
                }
            }
            // Every value is checked before any is applied: a load that fails leaves every parameter as it was.
            foreach (var (key, p) in targets)
                if (byKey.TryGetValue(key, out var value)) p.CheckLoadable(value, path, castDType);
            using (device is null ? null : DefaultDevice.Use(device.Value))
            {
                foreach (var (key, p) in targets)
                {
                    if (byKey.TryGetValue(key, out var value)) p.LoadValue(value, path, castDType);
                }
            }
        }
        finally
        {
            foreach (var (_, value) in loaded) value.Dispose();
        }
    }
}
