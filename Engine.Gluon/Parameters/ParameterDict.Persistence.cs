using Engine.IO;

namespace Engine.Gluon;

public sealed partial class ParameterDict
{
    private const string NamingHelp =
        "Please make sure source and target networks have the same prefix (see docs/gluon.md, Names).";

    /// <summary>
    /// Saves every parameter under its full name minus <paramref name="stripPrefix"/> (MXNet's ParameterDict.save),
    /// in MXNet's .params format, atomically. A parameter on several devices is saved as the mean of its copies.
    /// </summary>
    public void Save(string path, string stripPrefix = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(stripPrefix);
        foreach (var p in order)
        {
            if (!p.Name.StartsWith(stripPrefix, StringComparison.Ordinal))
                throw new ArgumentException(
                    $"Prefix '{stripPrefix}' is to be striped before saving, but Parameter's name '{p.Name}' does " +
                    $"not start with '{stripPrefix}'. This may be due to your Block sharing parameters from other " +
                    "Blocks, or a child block created outside its parent (see docs/gluon.md, Names).");
            if (!p.IsInitialized)
                throw new InvalidOperationException(
                    $"ParameterDict.Save: parameter '{p.Name}' is not initialized; initialize it (and run one " +
                    "forward pass for deferred shapes) before saving.");
        }
        var arrays = new List<KeyValuePair<string, NDArray>>();
        try
        {
            foreach (var p in order) arrays.Add(new(p.Name[stripPrefix.Length..], p.Reduce()));
            MXNetParams.Save(path, arrays);
        }
        finally
        {
            foreach (var (_, a) in arrays) a.Dispose();
        }
    }

    /// <summary>
    /// Loads a file saved by <see cref="Save"/> (or MXNet's ParameterDict.save, or an export's arg:/aux: file):
    /// each key, with <paramref name="restorePrefix"/> put in front, names a parameter. Missing parameters are an
    /// error unless <paramref name="allowMissing"/>, unknown keys unless <paramref name="ignoreExtra"/>; a dtype
    /// that differs is an error unless <paramref name="castDType"/>, and then <paramref name="dtypeSource"/> says
    /// which wins: "current" (the parameter's) or "saved" (the file's). Everything is checked before any parameter
    /// changes. Uninitialised parameters are created on <paramref name="device"/>.
    /// </summary>
    public void Load(string path, DeviceList? device = null, bool allowMissing = false, bool ignoreExtra = false,
        string restorePrefix = "", bool castDType = false, string dtypeSource = "current")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(restorePrefix);
        bool takeSaved = ParseDTypeSource(dtypeSource);
        if (restorePrefix.Length > 0)
        {
            foreach (var p in order)
            {
                if (!p.Name.StartsWith(restorePrefix, StringComparison.Ordinal))
                    throw new ArgumentException(
                        $"restorePrefix is '{restorePrefix}' but Parameters name '{p.Name}' does not start with " +
                        $"'{restorePrefix}'. {NamingHelp}");
            }
        }
        var loaded = MXNetParams.Load(path);
        try
        {
            var byName = new Dictionary<string, NDArray>(StringComparer.Ordinal);
            foreach (var (key, value) in loaded)
            {
                string k = key.StartsWith("arg:", StringComparison.Ordinal) ||
                           key.StartsWith("aux:", StringComparison.Ordinal) ? key[4..] : key;
                byName[restorePrefix + k] = value;
            }
            int strip = restorePrefix.Length;
            if (!allowMissing)
            {
                foreach (var p in order)
                {
                    if (!byName.ContainsKey(p.Name))
                        throw new InvalidDataException(
                            $"Parameter '{p.Name[strip..]}' is missing in file '{path}', which contains parameters: " +
                            $"{Brief(byName.Keys.Select(k => k[strip..]))}. {NamingHelp} Set allowMissing: true to " +
                            "ignore missing parameters.");
                }
            }
            var targets = new List<KeyValuePair<string, Parameter>>();
            foreach (var name in byName.Keys)
            {
                if (TryGet(name, out var p))
                {
                    targets.Add(new(name, p));
                }
                else if (!ignoreExtra)
                {
                    throw new InvalidDataException(
                        $"Parameter '{name[strip..]}' loaded from file '{path}' is not present in ParameterDict, " +
                        $"choices are: {Brief(Keys.Select(k => k[strip..]))}. Set ignoreExtra: true to ignore. " +
                        NamingHelp);
                }
            }
            LoadChecked(targets, byName, path, castDType, takeSaved, device);
        }
        finally
        {
            foreach (var (_, value) in loaded) value.Dispose();
        }
    }

    /// <summary>"current" or "saved": whether a loaded parameter takes the file's dtype.</summary>
    internal static bool ParseDTypeSource(string dtypeSource) => dtypeSource switch
    {
        "current" => false,
        "saved" => true,
        _ => throw new ArgumentException(
            $"dtypeSource must be \"current\" (cast saved values to the parameter's dtype) or \"saved\" (the " +
            $"parameter takes the saved dtype), got '{dtypeSource}'.", nameof(dtypeSource)),
    };

    /// <summary>Checks every (key, parameter) against its value, then loads them all.</summary>
    internal static void LoadChecked(IReadOnlyList<KeyValuePair<string, Parameter>> targets,
        IReadOnlyDictionary<string, NDArray> values, string path, bool castDType, bool takeSavedDType,
        DeviceList? device)
    {
        foreach (var (key, p) in targets)
        {
            if (values.TryGetValue(key, out var value)) p.CheckLoadable(value, path, castDType);
        }
        foreach (var (key, p) in targets)
        {
            if (values.TryGetValue(key, out var value)) p.LoadValue(value, takeSavedDType, device);
        }
    }
}
