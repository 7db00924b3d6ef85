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

    /// <summary>
    /// Parameters a block keeps in a list rather than in fields (a recurrent layer's per-layer weights), with their
    /// structural keys (MXNet's attribute names, l0_i2h_weight); they follow the field parameters.
    /// </summary>
    protected virtual IEnumerable<(string Key, Parameter Parameter)> ListedParameters() => [];

    private void CollectStructural(string prefix, List<KeyValuePair<string, Parameter>> into)
    {
        foreach (var (key, p) in FieldParameters) into.Add(new KeyValuePair<string, Parameter>(prefix + key, p));
        foreach (var (key, p) in ListedParameters()) into.Add(new KeyValuePair<string, Parameter>(prefix + key, p));
        foreach (var (name, child) in Children) child.CollectStructural(prefix + name + ".", into);
    }

    /// <summary>
    /// Saves the parameters to <paramref name="path"/> in MXNet's .params format under structural keys. The file
    /// is written atomically (a temporary file, then a rename). A parameter shared under several keys is stored
    /// once when <paramref name="deduplicate"/> is set; one on several devices is saved as the mean of its copies.
    /// </summary>
    public void SaveParameters(string path, bool deduplicate = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var chosen = new List<KeyValuePair<string, Parameter>>();
        foreach (var (key, p) in StructuralParameters())
        {
            if (deduplicate && !seen.Add(p)) continue;
            if (!p.IsInitialized)
                throw new InvalidOperationException(
                    $"SaveParameters: parameter '{p.Name}' (key '{key}') is not initialized; initialize the block " +
                    "and run one forward pass (for deferred shapes) before saving.");
            chosen.Add(new(key, p));
        }
        var arrays = new List<KeyValuePair<string, NDArray>>();
        try
        {
            foreach (var (key, p) in chosen) arrays.Add(new(key, p.ListData().Count == 1 ? p.Data() : p.Reduce()));
            MXNetParams.Save(path, arrays);
        }
        finally
        {
            for (int i = 0; i < arrays.Count; i++)
            {
                if (!ReferenceEquals(arrays[i].Value, chosen[i].Value.ListData()[0])) arrays[i].Value.Dispose();
            }
        }
    }

    /// <summary>
    /// Loads parameters saved by SaveParameters (or MXNet's save_parameters). Missing keys are an error unless
    /// <paramref name="allowMissing"/>, extra keys unless <paramref name="ignoreExtra"/>, a different dtype unless
    /// <paramref name="castDType"/>, and then <paramref name="dtypeSource"/> says which dtype wins ("current" or
    /// "saved"). A file whose keys have no dots (a single layer's, or MXNet's save_params) takes MXNet's legacy
    /// path: each key is this block's prefix plus the key (<c>CollectParams().Load(..., restorePrefix: Prefix)</c>).
    /// Everything is checked before any parameter changes.
    /// </summary>
    public void LoadParameters(string path, DeviceList? device = null, bool allowMissing = false,
        bool ignoreExtra = false, bool castDType = false, string dtypeSource = "current")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        bool takeSaved = ParameterDict.ParseDTypeSource(dtypeSource);
        var loaded = MXNetParams.Load(path);
        try
        {
            var byKey = new Dictionary<string, NDArray>();
            foreach (var (key, value) in loaded) byKey[key] = value;
            if (byKey.Count > 0 && byKey.Keys.All(k => !k.Contains('.')))
            {
                CollectParams().Load(path, device, allowMissing, ignoreExtra, Prefix, castDType, dtypeSource);
                return;
            }
            var targets = StructuralParameters().ToList();
            var known = targets.Select(t => t.Key).ToHashSet();
            if (!allowMissing)
            {
                foreach (var (key, p) in targets)
                {
                    if (!byKey.ContainsKey(key) &&
                        !targets.Any(t => ReferenceEquals(t.Value, p) && byKey.ContainsKey(t.Key)))
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
            ParameterDict.LoadChecked(targets, byKey, path, castDType, takeSaved, device);
        }
        finally
        {
            foreach (var (_, value) in loaded) value.Dispose();
        }
    }
}
