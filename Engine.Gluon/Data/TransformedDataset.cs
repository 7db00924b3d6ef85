namespace Engine.Gluon.Data;

/// <summary>A dataset whose samples pass through a function when read (Dataset.Transform).</summary>
internal sealed class TransformedDataset<TSource, TResult>(Dataset<TSource> source, Func<TSource, TResult> transform)
    : Dataset<TResult>
{
    public override int Count => source.Count;

    protected override TResult GetItem(int index) => transform(source[index]);
}
