using Engine;
using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Gluon.Rnn;

namespace Engine.Samples.CharLstm;

/// <summary>
/// A character-level language model: an embedding of each character, a fused LSTM over the sequence (TNC) and a
/// dense layer to one logit per vocabulary entry at every step.
/// </summary>
public sealed class CharModel : Block
{
    private readonly Embedding embedding;
    private readonly LSTM lstm;
    private readonly Dense decoder;

    public CharModel(int vocabulary, int embed, int hidden, int layers, double dropout)
    {
        embedding = new Embedding(vocabulary, embed);
        lstm = new LSTM(hidden, layers, dropout: dropout, inputSize: embed);
        decoder = new Dense(vocabulary, flatten: false, inUnits: hidden);
    }

    public NDArray[] BeginState(int batchSize) => lstm.BeginState(batchSize);

    /// <summary>Tokens (steps, batch) and states in; logits (steps, batch, vocabulary) and next states out.</summary>
    public (NDArray Logits, NDArray[] States) Run(NDArray tokens, NDArray[] states)
    {
        var (hidden, next) = lstm.Call(embedding.Call(tokens), states);
        return (decoder.Call(hidden), next);
    }
}
