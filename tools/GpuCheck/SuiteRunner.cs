using System.Collections;
using System.Diagnostics;
using System.Reflection;
using NUnit.Framework;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace Engine.GpuCheck;

/// <summary>
/// Runs the NUnit tests of an assembly without a test host (the GPU machine has only the .NET runtime): fixtures
/// with [Test], [TestCase] and [TestCaseSource] methods (TestCaseData included, sources inherited from base
/// fixtures), [Values], [Range] and [ValueSource] parameters (combined), [SetUpFixture], [SetUp] and [TearDown],
/// Assert.Ignore. Enough for the GPU suite, which uses nothing else; it is not a general NUnit runner.
/// </summary>
internal sealed class SuiteRunner(TextWriter log)
{
    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public int Skipped { get; private set; }

    public List<string> Failures { get; } = new();

    public void Run(Assembly assembly, string? filter)
    {
        var setUps = assembly.GetTypes().Where(t => t.GetCustomAttribute<SetUpFixtureAttribute>() is not null)
            .Select(Activator.CreateInstance).ToList();
        foreach (var s in setUps) Invoke<OneTimeSetUpAttribute>(s!);
        var fixtures = assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetMethods().Any(IsTest))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
        foreach (var fixture in fixtures)
        {
            foreach (var method in fixture.GetMethods().Where(IsTest).OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                foreach (var arguments in Cases(fixture, method))
                {
                    string name = $"{fixture.Name}.{method.Name}" +
                        (arguments.Length == 0 ? "" : $"({string.Join(", ", arguments.Select(Describe))})");
                    if (filter is not null && !name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
                    RunOne(fixture, method, arguments, name);
                }
            }
        }
        foreach (var s in setUps) Invoke<OneTimeTearDownAttribute>(s!);
    }

    private void RunOne(Type fixture, MethodInfo method, object?[] arguments, string name)
    {
        var watch = Stopwatch.StartNew();
        object instance = Activator.CreateInstance(fixture)!;
        string? failure = null;
        bool skipped = false;
        try
        {
            Invoke<SetUpAttribute>(instance);
            method.Invoke(instance, arguments);
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } x } ? x : e;
            if (inner is IgnoreException or InconclusiveException) skipped = true;
            else failure = inner.Message;
        }
        finally
        {
            try
            {
                Invoke<TearDownAttribute>(instance);
            }
            catch (Exception e)
            {
                failure ??= "teardown: " + (e.InnerException ?? e).Message;
            }
        }
        if (skipped) Skipped++;
        else if (failure is null) Passed++;
        else
        {
            Failed++;
            Failures.Add($"{name}: {failure}");
        }
        string verdict = skipped ? "skip" : failure is null ? "pass" : "FAIL";
        log.WriteLine($"{verdict} {watch.Elapsed.TotalMilliseconds,8:F0} ms  {name}" +
            (failure is null ? "" : $"\n     {failure}"));
    }

    private static bool IsTest(MethodInfo m) =>
        m.GetCustomAttribute<TestAttribute>() is not null || m.GetCustomAttributes<TestCaseAttribute>().Any() ||
        m.GetCustomAttribute<TestCaseSourceAttribute>() is not null;

    private static IEnumerable<object?[]> Cases(Type fixture, MethodInfo method)
    {
        var cases = method.GetCustomAttributes<TestCaseAttribute>().ToList();
        if (cases.Count > 0)
        {
            foreach (var c in cases) yield return Convert(method, c.Arguments);
            yield break;
        }
        if (method.GetCustomAttribute<TestCaseSourceAttribute>() is { } source)
        {
            var member = Source(source.SourceType ?? fixture, source.SourceName!);
            var values = member switch
            {
                MethodInfo m => (IEnumerable)m.Invoke(null, null)!,
                PropertyInfo p => (IEnumerable)p.GetValue(null)!,
                FieldInfo f => (IEnumerable)f.GetValue(null)!,
                _ => throw new InvalidOperationException($"test case source {source.SourceName} is not readable"),
            };
            foreach (var v in values)
                yield return v switch
                {
                    TestCaseData data => Convert(method, data.Arguments),
                    object?[] array => array,
                    _ => [v],
                };
            yield break;
        }
        var parameters = method.GetParameters();
        IEnumerable<object?[]> combinations = [[]];
        foreach (var p in parameters)
        {
            var values = ValuesOf(fixture, method, p);
            combinations = combinations.SelectMany(c => values.Select(v => c.Append(v).ToArray())).ToList();
        }
        foreach (var c in combinations) yield return c;
    }

    /// <summary>A parameter's values from its NUnit data source: [Values], [Range], [ValueSource].</summary>
    private static object?[] ValuesOf(Type fixture, MethodInfo method, ParameterInfo p)
    {
        var source = p.GetCustomAttributes().OfType<IParameterDataSource>().FirstOrDefault()
            ?? throw new InvalidOperationException($"parameter {p.Name} of {method.Name} has no data source");
        var wrapper = new ParameterWrapper(new MethodWrapper(fixture, method), p);
        return source.GetData(wrapper).Cast<object?>().ToArray();
    }

    /// <summary>The static member <paramref name="name"/> of the type or of a base type (private too).</summary>
    private static MemberInfo Source(Type type, string name)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            var found = t.GetMember(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static |
                BindingFlags.DeclaredOnly);
            if (found.Length > 0) return found[0];
        }
        throw new InvalidOperationException($"test case source {name} is not a static member of {type.Name}");
    }

    private static object?[] Convert(MethodInfo method, object?[] arguments)
    {
        var parameters = method.GetParameters();
        var result = new object?[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            var target = parameters[i].ParameterType;
            var value = arguments[i];
            result[i] = value is null || target.IsInstanceOfType(value) ? value
                : target.IsEnum ? Enum.ToObject(target, value)
                : System.Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
        }
        return result;
    }

    private static string Describe(object? value) => value switch
    {
        null => "null",
        Array a => "[" + string.Join(", ", a.Cast<object?>().Select(Describe)) + "]",
        _ => value.ToString() ?? "",
    };

    private static void Invoke<TAttribute>(object instance) where TAttribute : Attribute
    {
        foreach (var m in instance.GetType().GetMethods().Where(m => m.GetCustomAttribute<TAttribute>() is not null))
            m.Invoke(instance, null);
    }
}
