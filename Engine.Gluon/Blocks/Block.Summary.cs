using System.Text;

namespace Engine.Gluon;

public abstract partial class Block
{
    /// <summary>
    /// Runs the block once on <paramref name="inputs"/> and returns (and prints) a table of its layers with their
    /// output shapes and parameter counts, then the totals (MXNet's summary).
    /// </summary>
    public string Summary(params NDArray[] inputs)
    {
        var rows = new List<(string Layer, string Output, long Params)>();
        var counted = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var handles = new List<IDisposable>();
        var typeCounts = new Dictionary<string, int>();
        void Attach(Block b)
        {
            foreach (var (_, child) in b.Children) Attach(child);
            if (b is Sequential or HybridSequential && !ReferenceEquals(b, this)) return;
            handles.Add(b.RegisterForwardHook((blk, _, outputs) =>
            {
                string type = blk.GetType().Name;
                typeCounts[type] = typeCounts.GetValueOrDefault(type) + 1;
                long n = 0;
                foreach (var p in blk.Params.Values)
                {
                    if (counted.Add(p)) n += p.Shape.Size;
                }
                rows.Add(($"{type}-{typeCounts[type]}", string.Join(", ", outputs.Select(o => o.Shape)), n));
            }));
        }
        Attach(this);
        NDArray[] result;
        try
        {
            using (Autograd.Pause()) result = CallMany(inputs);
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
        foreach (var r in result) r.Dispose();
        var all = CollectParams().Values.ToList();
        long total = all.Sum(p => p.Shape.Size);
        long trainable = all.Where(p => p.GradReq != GradReq.Null).Sum(p => p.Shape.Size);
        var sb = new StringBuilder();
        string line = new('-', 80);
        sb.AppendLine(line);
        sb.AppendLine($"{"Layer (type)",28}{"Output Shape",30}{"Param #",20}");
        sb.AppendLine(new string('=', 80));
        sb.AppendLine($"{"Input",28}{string.Join(", ", inputs.Select(i => i.Shape)),30}{0,20}");
        foreach (var (layer, output, n) in rows) sb.AppendLine($"{layer,28}{output,30}{n,20}");
        sb.AppendLine(new string('=', 80));
        sb.AppendLine($"Parameters in forward computation graph, duplicate included");
        sb.AppendLine($"   Total params: {total}");
        sb.AppendLine($"   Trainable params: {trainable}");
        sb.AppendLine($"   Non-trainable params: {total - trainable}");
        sb.AppendLine($"Shared params in forward computation graph: {rows.Sum(r => r.Params) - total}");
        sb.AppendLine($"Unique parameters in model: {total}");
        sb.AppendLine(line);
        string text = sb.ToString();
        Console.Write(text);
        return text;
    }
}
