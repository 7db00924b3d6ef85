using Engine.Gluon.Metrics;

namespace Engine.Tests.Gluon;

public class MetricTests
{
    [Test]
    public void AccuracyTakesTheArgmaxOverAxisOneAndAccumulates()
    {
        var acc = new Accuracy();
        acc.Get().Name.ShouldBe("accuracy");
        double.IsNaN(acc.Get().Value).ShouldBeTrue();
        using var preds = Nd.Array(new float[,] { { 0.1f, 0.9f }, { 0.8f, 0.2f }, { 0.3f, 0.7f } });
        using var labels = Nd.Array(1f, 1, 1);
        acc.Update(labels, preds);
        acc.Get().Value.ShouldBe(2.0 / 3, 1e-15);
        // Predictions shaped like the labels are class indices already.
        using var indices = Nd.Array(0f, 2);
        using var intLabels = Nd.Array([0, 1], new Shape(2));
        acc.Update(intLabels, indices);
        acc.SumMetric.ShouldBe(3);
        acc.NumInstances.ShouldBe(5);
        acc.Get().Value.ShouldBe(0.6, 1e-15);
        acc.ToString().ShouldBe("EvalMetric: {'accuracy': 0.6}");
        acc.Reset();
        double.IsNaN(acc.Get().Value).ShouldBeTrue();
        // Ties go to the first class, as argmax does; labels are truncated to integers as MXNet's int32 cast.
        using var tie = Nd.Array(new float[,] { { 0.5f, 0.5f } });
        using var zero = Nd.Array(0.7f);
        acc.Update(zero, tie);
        acc.Get().Value.ShouldBe(1);
    }

    [Test]
    public void AccuracyTakesListsAndOtherAxes()
    {
        var acc = new Accuracy(axis: 0);
        using var preds = Nd.Array(new float[,] { { 1, 0, 0 }, { 0, 1, 1 } });
        using var labels = Nd.Array(0f, 1, 0);
        acc.Update([labels, labels], [preds, preds]);
        acc.Get().Value.ShouldBe(2.0 / 3, 1e-15);
    }

    [Test]
    public void AccuracyNamesShapeErrors()
    {
        var acc = new Accuracy();
        using var preds = Nd.Zeros(4, 10);
        using var labels = Nd.Zeros(3);
        Should.Throw<ArgumentException>(() => acc.Update(labels, preds)).Message.ShouldContain(
            "Accuracy: shape of labels (3,) (3 values) does not match the argmax over axis 1 of predictions (4, 10)");
        Should.Throw<ArgumentException>(() => acc.Update([labels, labels], [preds])).Message
            .ShouldContain("Accuracy: 2 label array(s) but 1 prediction array(s)");
        Should.Throw<ArgumentNullException>(() => acc.Update(null, preds)).Message
            .ShouldContain("Accuracy: labels are null");
        using var flat = Nd.Zeros(5);
        Should.Throw<ArgumentException>(() => new Accuracy(axis: 1).Update(labels, flat)).Message
            .ShouldContain("Accuracy: axis 1 is out of range for predictions of shape (5,)");
        acc.NumInstances.ShouldBe(0);
    }

    [Test]
    public void AccuracyWorksOnRecordedOutputs()
    {
        using var x = Nd.Array(new float[,] { { 1, 2 }, { 4, 3 } });
        x.AttachGrad();
        var acc = new Accuracy();
        using var labels = Nd.Array(1f, 0);
        using (Engine.Autograd.Record())
        {
            using var y = x * 2;
            acc.Update(labels, y);
        }
        acc.Get().Value.ShouldBe(1);
    }

    [Test]
    public void TopKAccuracyCountsLabelsAmongTheKBestScores()
    {
        var top2 = new TopKAccuracy(2);
        top2.Name.ShouldBe("top_k_accuracy_2");
        using var preds = Nd.Array(new float[,]
        {
            { 0.1f, 0.2f, 0.3f, 0.4f },
            { 0.4f, 0.3f, 0.2f, 0.1f },
            { 0.25f, 0.25f, 0.25f, 0.25f },
            { 0.25f, 0.25f, 0.25f, 0.25f },
        });
        using var labels = Nd.Array(2f, 2, 3, 1);
        top2.Update(labels, preds);
        // Row 0: 2 is second best. Row 1: 2 is third. Rows 2 and 3 tie everywhere: a stable sort ranks
        // class 3 fourth and class 1 second.
        top2.Get().Value.ShouldBe(0.5);
        var top9 = new TopKAccuracy(9);
        top9.Update(labels, preds);
        top9.Get().Value.ShouldBe(1);
        Should.Throw<ArgumentOutOfRangeException>(() => new TopKAccuracy(1)).Message.ShouldContain("use Accuracy");
        using var bad = Nd.Array(4f, 0, 0, 0);
        Should.Throw<ArgumentException>(() => top2.Update(bad, preds)).Message
            .ShouldContain("label 4 of row 0 is not a class index");
        using var flat = Nd.Zeros(4);
        Should.Throw<ArgumentException>(() => top2.Update(labels, flat)).Message.ShouldContain("(batch, classes)");
    }

    [Test]
    public void TopKAccuracyMatchesAStableSortReference()
    {
        var random = new Random(11);
        const int rows = 200, classes = 7, k = 3;
        // Coarse scores so that ties happen.
        var scores = Enumerable.Range(0, rows * classes).Select(_ => (float)random.Next(5)).ToArray();
        var labels = Enumerable.Range(0, rows).Select(_ => (float)random.Next(classes)).ToArray();
        int expected = 0;
        for (int r = 0; r < rows; r++)
        {
            var best = Enumerable.Range(0, classes).OrderByDescending(c => scores[r * classes + c]).Take(k);
            if (best.Contains((int)labels[r])) expected++;
        }
        using var preds = Nd.Array(scores, new Shape(rows, classes));
        using var y = Nd.Array(labels);
        var metric = new TopKAccuracy(k);
        metric.Update(y, preds);
        metric.SumMetric.ShouldBe(expected);
        metric.NumInstances.ShouldBe(rows);
    }

    [Test]
    public void CrossEntropyIsTheMeanNegativeLogProbabilityOfTheLabel()
    {
        var ce = new CrossEntropy();
        ce.Name.ShouldBe("cross-entropy");
        using var probs = Nd.Array(new float[,] { { 0.2f, 0.8f }, { 0.6f, 0.4f }, { 1f, 0f } });
        using var labels = Nd.Array([1, 0, 1], new Shape(3));
        ce.Update(labels, probs);
        double expected = (-Math.Log(0.8f + 1e-12) - Math.Log(0.6f + 1e-12) - Math.Log(1e-12)) / 3;
        ce.Get().Value.ShouldBe(expected, 1e-12);
        using var bad = Nd.Array(0f, 2, 0);
        Should.Throw<ArgumentException>(() => ce.Update(bad, probs)).Message
            .ShouldContain("CrossEntropy: label 2 of row 1 is not a class index of predictions (3, 2)");
        using var few = Nd.Array(0f, 1);
        Should.Throw<ArgumentException>(() => ce.Update(few, probs)).Message
            .ShouldContain("shape of labels (2,) (2 values) does not match the 3 rows of predictions (3, 2)");
        Should.Throw<ArgumentOutOfRangeException>(() => new CrossEntropy(-1)).Message.ShouldContain("eps");
    }

    [Test]
    public void LossIsTheMeanOfTheLossValues()
    {
        var loss = new LossMetric();
        loss.Name.ShouldBe("loss");
        using var a = Nd.Array(1f, 2, 3);
        using var b = Nd.Array(new float[,] { { 4, 5 } });
        loss.Update(a);
        loss.Update(null, b);
        loss.Get().ShouldBe(("loss", 3.0));
        loss.NumInstances.ShouldBe(5);
        loss.Reset();
        loss.NumInstances.ShouldBe(0);
    }
}
