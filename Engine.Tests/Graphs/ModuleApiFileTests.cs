using Engine.Gluon;
using Engine.Graphs;

namespace Engine.Tests.Graphs;

/// <summary>
/// A symbol file in the form MXNet 1.4's Module API writes (apache/mxnet's clojure-package test reference
/// test-symbol.json.ref): variables repeat their operator's attributes, which an importer must ignore, and there
/// are no shape hints, so every parameter shape comes from shape inference.
/// </summary>
public class ModuleApiFileTests
{
    private const string Json = """
    {
      "nodes": [
        {"op": "null", "name": "data", "inputs": []},
        {"op": "null", "name": "fc1_weight", "attrs": {"num_hidden": "128"}, "inputs": []},
        {"op": "null", "name": "fc1_bias", "attrs": {"num_hidden": "128"}, "inputs": []},
        {"op": "FullyConnected", "name": "fc1", "attrs": {"num_hidden": "128"},
          "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]},
        {"op": "Activation", "name": "relu1", "attrs": {"act_type": "relu"}, "inputs": [[3, 0, 0]]},
        {"op": "null", "name": "fc2_weight", "attrs": {"num_hidden": "64"}, "inputs": []},
        {"op": "null", "name": "fc2_bias", "attrs": {"num_hidden": "64"}, "inputs": []},
        {"op": "FullyConnected", "name": "fc2", "attrs": {"num_hidden": "64"},
          "inputs": [[4, 0, 0], [5, 0, 0], [6, 0, 0]]},
        {"op": "Activation", "name": "relu2", "attrs": {"act_type": "relu"}, "inputs": [[7, 0, 0]]},
        {"op": "null", "name": "fc3_weight", "attrs": {"num_hidden": "10"}, "inputs": []},
        {"op": "null", "name": "fc3_bias", "attrs": {"num_hidden": "10"}, "inputs": []},
        {"op": "FullyConnected", "name": "fc3", "attrs": {"num_hidden": "10"},
          "inputs": [[8, 0, 0], [9, 0, 0], [10, 0, 0]]},
        {"op": "null", "name": "softmax_label", "inputs": []},
        {"op": "SoftmaxOutput", "name": "softmax", "inputs": [[11, 0, 0], [12, 0, 0]]}
      ],
      "arg_nodes": [0, 1, 2, 5, 6, 9, 10, 12],
      "node_row_ptr": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
      "heads": [[13, 0, 0]],
      "attrs": {"mxnet_version": ["int", 10400]}
    }
    """;

    [Test]
    public void ModuleApiFileImportsAndInfersEveryShape()
    {
        var symbol = Symbol.FromJson(Json, "test-symbol.json");
        var (args, outs, aux) = symbol.InferShape(new Dictionary<string, Shape>
        {
            ["data"] = new Shape(5, 784), ["softmax_label"] = new Shape(5),
        });
        args.ShouldBe([new Shape(5, 784), new Shape(128, 784), new Shape(128), new Shape(64, 128), new Shape(64),
            new Shape(10, 64), new Shape(10), new Shape(5)]);
        outs.ShouldBe([new Shape(5, 10)]);
        aux.ShouldBeEmpty();

        var block = new SymbolBlock(symbol, Symbol.Var("data"));
        block.Initialize();
        using var x = ExportImportTests.Input(3, 5, 784);
        using var y = block.Call(x);
        var p = block.CollectParams();
        p.Keys.ShouldNotContain("softmax_label", "a SoftmaxOutput label is not a parameter");
        using var h1 = Nd.Relu(Nd.FullyConnected(x, p["fc1_weight"].Data(), p["fc1_bias"].Data(), 128));
        using var h2 = Nd.Relu(Nd.FullyConnected(h1, p["fc2_weight"].Data(), p["fc2_bias"].Data(), 64));
        using var logits = Nd.FullyConnected(h2, p["fc3_weight"].Data(), p["fc3_bias"].Data(), 10);
        using var expected = Nd.Softmax(logits);
        y.ToArray().ShouldBe(expected.ToArray());
    }
}
