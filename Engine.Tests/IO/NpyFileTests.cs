using Engine.IO;

namespace Engine.Tests.IO;

public class NpyFileTests
{
    [Test]
    public void RoundTripsAnArchive()
    {
        string path = Path.Combine(Path.GetTempPath(), $"engine-npz-{Guid.NewGuid():N}.npz");
        try
        {
            var a = NpyArray.FromFloat32(new Shape(2, 3), [1, 2, 3, 4, 5, 6]);
            NpyFile.WriteArchive(path, new Dictionary<string, NpyArray> { ["a"] = a });
            var back = NpyFile.ReadArchive(path)["a"];
            back.Shape.ShouldBe(new Shape(2, 3));
            back.DType.ShouldBe(DType.Float32);
            back.ToFloat32().ShouldBe([1f, 2, 3, 4, 5, 6]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void TruncatedFileNamesTheFileAndWhatIsMissing()
    {
        var ms = new MemoryStream();
        NpyFile.Write(ms, NpyArray.FromFloat32(new Shape(4), [1, 2, 3, 4]));
        var cut = new MemoryStream(ms.ToArray()[..^3]);
        var e = Should.Throw<InvalidDataException>(() => NpyFile.Read(cut, "x.npy"));
        e.Message.ShouldContain("x.npy");
        e.Message.ShouldContain("truncated");
    }
}
