using Engine.Gluon;
using Engine.Gluon.Initializers;
using Engine.Gluon.Losses;
using Engine.Gluon.Metrics;
using Engine.Gluon.NN;

namespace Engine.Tests.Gluon;

public class PublicNamesTests
{
    [Test]
    public void NoTwoPublicGluonTypesShareASimpleName()
    {
        // With the usual using set (Engine.Gluon and its sub-namespaces), two public types of the same simple name
        // make every unqualified use ambiguous.
        var clashes = typeof(Block).Assembly.GetExportedTypes()
            .Where(t => !t.IsNested)
            .GroupBy(t => t.Name)
            .Where(g => g.Count() > 1)
            .Select(g => string.Join(" / ", g.Select(t => t.FullName)))
            .ToList();
        clashes.ShouldBeEmpty();
    }

    [Test]
    public void ConstantAndLossResolveUnderTheUsualUsings()
    {
        // This file imports Engine.Gluon, .Initializers, .Losses, .Metrics and .NN: it compiles only when the names
        // below are unambiguous.
        Initializer init = new Constant(2.5);
        using var a = Nd.Zeros(new Shape(3));
        init.Initialize("c", a);
        a.ToArray<float>().ShouldBe([2.5f, 2.5f, 2.5f]);
        typeof(Loss).Namespace.ShouldBe("Engine.Gluon.Losses");
        new LossMetric().Get().Name.ShouldBe("loss");
        typeof(ConstantParameter).BaseType.ShouldBe(typeof(Parameter));
        new Dense(2).ShouldBeAssignableTo<HybridBlock>();
    }
}
