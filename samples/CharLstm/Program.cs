using System.Diagnostics;
using System.Text;
using Engine;
using Engine.Gluon;
using Engine.Gluon.Initializers;
using Engine.Gluon.Losses;
using Engine.Samples.CharLstm;

// Trains a character-level LSTM language model on a text Debian ships and prints the perplexity per epoch and a
// generated sample. Usage: dotnet run -c Release --project samples/CharLstm -- [--corpus FILE] [--epochs N]
// [--hidden H] [--layers L] [--seq-len T] [--batch-size N] [--lr X] [--seed S] [--generate N] [--prefix TEXT]
Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException e)
{
    bool help = args.Contains("--help") || args.Contains("-h");
    Console.Error.WriteLine(help ? e.Message : $"error: {e.Message}");
    return help ? 0 : 2;
}

if (!File.Exists(options.Corpus))
{
    Console.Error.WriteLine(
        $"error: the corpus {options.Corpus} does not exist. The default, /usr/share/common-licenses/GPL-3, comes " +
        "with Debian's base-files package (reinstall it with 'apt-get install --reinstall base-files'); or pass " +
        "--corpus with any UTF-8 text file of at least a few kilobytes.");
    return 1;
}
string text = File.ReadAllText(options.Corpus, Encoding.UTF8);
int needed = 2 * (options.SeqLen + 1) * 10;
if (text.Length < needed)
{
    Console.Error.WriteLine(
        $"error: the corpus {options.Corpus} has {text.Length} characters; at least {needed} are needed for " +
        $"--seq-len {options.SeqLen}. Use a longer text or a shorter --seq-len.");
    return 1;
}

var vocabulary = text.Distinct().Order().ToArray();
var index = vocabulary.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
var encoded = text.Select(c => (float)index[c]).ToArray();
// The last tenth is held out for the validation perplexity.
int split = encoded.Length * 9 / 10;
var train = encoded[..split];
var valid = encoded[split..];
Console.WriteLine($"corpus {options.Corpus}: {text.Length} characters, vocabulary {vocabulary.Length}, " +
                  $"{train.Length} for training and {valid.Length} for validation");

RandomState.Seed(options.Seed);
var random = new Random(options.Seed);
var model = new CharModel(vocabulary.Length, embed: 32, options.Hidden, options.Layers, dropout: 0.1);
model.Initialize(new Xavier());
var loss = new SoftmaxCrossEntropyLoss();
var trainer = new Trainer(model.CollectParams(), "adam",
    new Dictionary<string, object> { ["learning_rate"] = options.LearningRate });
int steps = options.SeqLen, batch = options.BatchSize;
int batches = Math.Max(1, train.Length / (steps * batch));
Console.WriteLine($"LSTM {options.Layers}x{options.Hidden}, sequence {steps}, batch {batch}, adam lr " +
                  $"{options.LearningRate}, {options.Epochs} epochs of {batches} batches");

var total = Stopwatch.StartNew();
for (int epoch = 1; epoch <= options.Epochs; epoch++)
{
    var clock = Stopwatch.StartNew();
    double sum = 0;
    long count = 0;
    for (int b = 0; b < batches; b++)
    {
        using var scope = NDArray.Scope();
        // Random sampling (each row a random window of the text), states from zero.
        var offsets = Enumerable.Range(0, batch).Select(_ => random.Next(train.Length - steps - 1)).ToArray();
        var (x, y) = Windows(train, offsets, steps);
        NDArray l;
        using (Autograd.Record())
        {
            var (logits, _) = model.Run(x, model.BeginState(batch));
            l = loss.Call(logits.Reshape(-1, vocabulary.Length), y.Reshape(-1));
        }
        l.Backward();
        trainer.Step(steps * batch);
        sum += Nd.Sum(l).ToScalar<float>();
        count += l.Size;
    }
    double trainPerplexity = Math.Exp(sum / count);
    if (!double.IsFinite(trainPerplexity))
    {
        Console.Error.WriteLine($"error: the training loss became {sum / count} in epoch {epoch}: training " +
                                $"diverged. Lower the learning rate (--lr, now {options.LearningRate}).");
        return 3;
    }
    double validPerplexity = Evaluate(valid);
    Console.WriteLine($"epoch {epoch}: train perplexity {trainPerplexity:F2}, validation perplexity " +
                      $"{validPerplexity:F2} ({clock.Elapsed.TotalSeconds:F1} s)");
}
Console.WriteLine($"trained in {total.Elapsed.TotalSeconds:F1} s");
Console.WriteLine($"sample: {options.Prefix}{Generate(options.Prefix, options.Generate)}");
return 0;

// Inputs (steps, batch) and next-character labels (steps, batch) from windows starting at the offsets.
static (NDArray X, NDArray Y) Windows(float[] data, int[] offsets, int steps)
{
    int batch = offsets.Length;
    var x = new float[steps * batch];
    var y = new float[steps * batch];
    for (int t = 0; t < steps; t++)
    {
        for (int n = 0; n < batch; n++)
        {
            x[t * batch + n] = data[offsets[n] + t];
            y[t * batch + n] = data[offsets[n] + t + 1];
        }
    }
    return (Nd.Array(x, new Shape(steps, batch)), Nd.Array(y, new Shape(steps, batch)));
}

// Perplexity over the held-out text read as one sequence in consecutive windows, the state carried along.
double Evaluate(float[] data)
{
    var states = model.BeginState(1);
    double sum = 0;
    long count = 0;
    for (int start = 0; start + steps + 1 <= data.Length; start += steps)
    {
        using var scope = NDArray.Scope();
        var (x, y) = Windows(data, [start], steps);
        var (logits, next) = model.Run(x, states);
        var l = loss.Call(logits.Reshape(-1, vocabulary.Length), y.Reshape(-1));
        sum += Nd.Sum(l).ToScalar<float>();
        count += l.Size;
        foreach (var s in next) scope.Keep(s);
        states = next;
    }
    return Math.Exp(sum / Math.Max(1, count));
}

// Feeds the prefix, then samples each next character from softmax(logits / 0.7).
string Generate(string prefix, int length)
{
    var known = prefix.Where(index.ContainsKey).Select(c => (float)index[c]).ToArray();
    if (known.Length == 0) known = [0];
    var states = model.BeginState(1);
    var output = new StringBuilder();
    var input = Nd.Array(known, new Shape(known.Length, 1));
    for (int i = 0; i < length; i++)
    {
        using var scope = NDArray.Scope();
        var (logits, next) = model.Run(input, states);
        var last = logits.ToArray<float>()[^vocabulary.Length..];
        double max = last.Max(), total = 0;
        var p = last.Select(v => Math.Exp((v - max) / 0.7)).ToArray();
        total = p.Sum();
        double u = random.NextDouble() * total;
        int pick = 0;
        for (double acc = p[0]; acc < u && pick < p.Length - 1; acc += p[++pick]) { }
        output.Append(vocabulary[pick]);
        foreach (var s in next) scope.Keep(s);
        states = next;
        input = scope.Keep(Nd.Array([(float)pick], new Shape(1, 1)));
    }
    return output.ToString();
}
