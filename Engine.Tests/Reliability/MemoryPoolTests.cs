using Engine.Memory;

namespace Engine.Tests.Reliability;

public class MemoryPoolTests
{
    [Test]
    public void AFailedAllocationLeavesTheBookkeepingRightAndNamesTheShape()
    {
        var pool = CpuMemoryPool.Shared;
        var before = pool.Stats;
        // 2^48 float32 elements: 1 PiB, more than any address space, so the allocator refuses at once.
        var shape = new Shape(1 << 20, 1 << 20, 256);
        var e = Should.Throw<OutOfMemoryException>(() => Nd.Zeros(shape));
        e.Message.ShouldContain(shape.ToString());
        e.Message.ShouldContain((shape.Size * 4).ToString());
        var after = pool.Stats;
        after.BytesInUse.ShouldBe(before.BytesInUse);
        after.Allocations.ShouldBe(before.Allocations);
        after.PeakBytesInUse.ShouldBe(before.PeakBytesInUse);
        using var small = Nd.Ones(new Shape(3));
        small.ToArray().ShouldBe([1f, 1, 1]);
    }
}
