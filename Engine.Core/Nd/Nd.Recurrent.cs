using Engine.Kernels;
using Engine.Ops;

namespace Engine;

public static partial class Nd
{
    /// <summary>
    /// MXNet's fused RNN op on TNC data (sequence, batch, features): <paramref name="parameters"/> is the flat
    /// vector of every weight then every bias (see docs/gluon.md), <paramref name="state"/> and, for LSTM,
    /// <paramref name="stateCell"/> are (num_layers * directions, batch, stateSize). Returns the output
    /// (T, N, directions * stateSize), the final state and, for LSTM, the final cell. Dropout
    /// <paramref name="p"/> applies between layers while training.
    /// </summary>
    public static NDArray[] Rnn(NDArray data, NDArray parameters, NDArray state, NDArray? stateCell, RnnMode mode,
        int stateSize, int numLayers, bool bidirectional = false, double p = 0, bool stateOutputs = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(state);
        bool lstm = mode == RnnMode.Lstm;
        if (lstm != stateCell is not null)
            throw new ArgumentException(lstm
                ? "rnn: mode lstm needs stateCell, the initial cell state (num_layers * directions, batch, state_size)."
                : $"rnn: mode {RnnAttrs.ModeName(mode)} has no cell state; pass stateCell = null.");
        var attrs = new RnnAttrs(mode, stateSize, numLayers, bidirectional, p, stateOutputs).Resolve(data.Shape);
        NDArray[] inputs = lstm ? [data, parameters, state, stateCell!] : [data, parameters, state];
        var outputs = RecurrentOps.Rnn.Invoke(attrs, inputs);
        outputs[3].Dispose();
        if (lstm) return [outputs[0], outputs[1], outputs[2]];
        outputs[2].Dispose();
        return [outputs[0], outputs[1]];
    }
}
