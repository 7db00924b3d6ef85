using System.Collections;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Engine.Gluon.Data;

/// <summary>
/// Enumerates batches that a producer thread makes ahead of the consumer, at most <c>capacity</c> waiting.
/// Disposing the enumerator (foreach does, also on break or exception) stops the producer, waits for its thread
/// and disposes the batches nobody took; an enumerator abandoned without Dispose stops its producer from the
/// finalizer.
/// </summary>
internal sealed class PrefetchingEnumerator : IEnumerator<DataBatch>
{
    private readonly Producer producer;
    private readonly Action onCompleted;
    private readonly CancellationToken cancellation;
    private DataBatch? current;
    private bool finished;

    public PrefetchingEnumerator(IReadOnlyList<int[]> batches, Func<int[], DataBatch> make, int capacity,
        Action onCompleted, CancellationToken cancellation = default)
    {
        this.onCompleted = onCompleted;
        this.cancellation = cancellation;
        producer = new Producer(batches, make, capacity, cancellation);
    }

    // producer is null only when the constructor failed; a finalizer must not throw.
    ~PrefetchingEnumerator() => producer?.Cancel();

    /// <summary>The producer's thread (tests check that it ends).</summary>
    internal Thread ProducerThread => producer.Thread;

    public DataBatch Current => current ?? throw new InvalidOperationException(
        "DataLoader: Current was read before MoveNext or after the last batch.");

    object IEnumerator.Current => Current;

    public bool MoveNext()
    {
        if (finished) return false;
        cancellation.ThrowIfCancellationRequested();
        var batch = producer.Take(cancellation);
        if (batch is null)
        {
            // A producer stopped by the token ends its queue early: that is a cancellation, not the epoch's end.
            cancellation.ThrowIfCancellationRequested();
            finished = true;
            current = null;
            onCompleted();
            return false;
        }
        // Made on another thread, the batch joins this thread's scope as a batch made here would.
        foreach (var field in batch) NDArrayScope.Capture(field);
        current = batch;
        return true;
    }

    public void Reset() => throw new NotSupportedException("DataLoader: enumerate the loader again for a new epoch.");

    public void Dispose()
    {
        finished = true;
        current = null;
        producer.Stop();
        GC.SuppressFinalize(this);
    }

    /// <summary>The state the producer thread uses; it holds no reference to the enumerator, so an abandoned
    /// enumerator can be finalized.</summary>
    private sealed class Producer
    {
        private readonly IReadOnlyList<int[]> batches;
        private readonly Func<int[], DataBatch> make;
        private readonly BlockingCollection<DataBatch> queue;
        private readonly CancellationTokenSource cancel;
        private ExceptionDispatchInfo? error;
        private int stopped;

        public Producer(IReadOnlyList<int[]> batches, Func<int[], DataBatch> make, int capacity,
            CancellationToken cancellation)
        {
            cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            this.batches = batches;
            this.make = make;
            queue = new BlockingCollection<DataBatch>(capacity);
            Thread = new Thread(Run) { IsBackground = true, Name = "DataLoader prefetch" };
            // UnsafeStart does not flow the ExecutionContext: the consumer's NDArray scope, default device and
            // autograd state stay on the consumer's thread.
            Thread.UnsafeStart();
        }

        public Thread Thread { get; }

        private void Run()
        {
            var token = cancel.Token;
            try
            {
                foreach (var indices in batches)
                {
                    if (token.IsCancellationRequested) break;
                    var batch = make(indices);
                    try
                    {
                        queue.Add(batch, token);
                    }
                    catch (OperationCanceledException)
                    {
                        batch.Dispose();
                        break;
                    }
                }
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                queue.CompleteAdding();
                if (token.IsCancellationRequested) Drain();
            }
        }

        /// <summary>The next batch, or null at the end; rethrows what the producer threw, after the batches it
        /// made before.</summary>
        public DataBatch? Take(CancellationToken cancellation)
        {
            if (queue.TryTake(out var batch, Timeout.Infinite, cancellation)) return batch;
            error?.Throw();
            return null;
        }

        public void Cancel()
        {
            try
            {
                cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already stopped.
            }
        }

        public void Stop()
        {
            if (Interlocked.Exchange(ref stopped, 1) != 0) return;
            cancel.Cancel();
            Thread.Join();
            Drain();
            queue.Dispose();
            cancel.Dispose();
        }

        private void Drain()
        {
            while (queue.TryTake(out var batch)) batch.Dispose();
        }
    }
}
