using Engine.Kernels;
using Engine.Ops;

namespace Engine;

public static partial class Nd
{
    /// <summary>Joins arrays along an axis (MXNet's concat, dim=1 by default).</summary>
    public static NDArray Concat(int axis, params NDArray[] arrays) =>
        LayoutOps.Concat.Call(new ConcatAttrs(axis), arrays);

    /// <summary>Splits into <paramref name="sections"/> equal parts along an axis (views).</summary>
    public static NDArray[] Split(NDArray x, int sections, int axis = 0)
    {
        int a = x.Shape.NormalizeAxis(axis, "split");
        if (sections <= 0 || x.Shape[a] % sections != 0)
            throw new ArgumentException(
                $"split: axis {axis} of shape {x.Shape} has size {x.Shape[a]}, which does not divide into " +
                $"{sections} equal sections; give section sizes instead.");
        return Split(x, Enumerable.Repeat(x.Shape[a] / sections, sections).ToArray(), axis);
    }

    /// <summary>Splits into parts of the given sizes along an axis (views).</summary>
    public static NDArray[] Split(NDArray x, int[] sizes, int axis = 0)
    {
        int a = x.Shape.NormalizeAxis(axis, "split");
        if (sizes.Any(s => s < 0) || sizes.Sum() != x.Shape[a])
            throw new ArgumentException(
                $"split: section sizes ({string.Join(", ", sizes)}) must be non-negative and sum to {x.Shape[a]}, " +
                $"the size of axis {axis} of shape {x.Shape}.");
        var parts = new NDArray[sizes.Length];
        int offset = 0;
        for (int k = 0; k < sizes.Length; k++)
        {
            parts[k] = x.SliceAxis(a, offset, offset + sizes[k]);
            offset += sizes[k];
        }
        return parts;
    }

    /// <summary>Gathers slices of <paramref name="data"/> along an axis at the given indices.</summary>
    public static NDArray Take(NDArray data, NDArray indices, int axis = 0, TakeMode mode = TakeMode.Clip) =>
        LayoutOps.Take.Call(new TakeAttrs(axis, mode), data, indices);

    /// <summary>Looks up rows of <paramref name="weight"/> (input_dim x output_dim) for integer indices.</summary>
    public static NDArray Embedding(NDArray indices, NDArray weight) =>
        LayoutOps.Take.Call(new TakeAttrs(0, TakeMode.Clip), weight, indices);

    public static NDArray OneHot(NDArray indices, int depth, double onValue = 1, double offValue = 0,
        DType dtype = DType.Float32) =>
        LayoutOps.OneHot.Call(new OneHotAttrs(depth, onValue, offValue, dtype), indices);

    /// <summary>Pads each axis by (before, after) amounts.</summary>
    public static NDArray Pad(NDArray x, int[] before, int[] after, PadMode mode = PadMode.Constant,
        double value = 0) =>
        LayoutOps.Pad.Call(new PadAttrs(mode, before, after, value), x);

    /// <summary>
    /// Zeroes elements with probability <paramref name="p"/> and scales the rest by 1/(1-p) while training
    /// (Autograd.IsTraining); the identity otherwise.
    /// </summary>
    public static NDArray Dropout(NDArray x, double p = 0.5)
    {
        var outputs = RandomOps.Dropout.Invoke(new DropoutAttrs(p).Resolve(x.Size), x);
        outputs[1].Dispose();
        return outputs[0];
    }

    public static NDArray RandomUniform(double low, double high, Shape shape, DType dtype = DType.Float32,
        Device? device = null)
    {
        using (device is null ? null : DefaultDevice.Use(device.Value))
            return RandomOps.Random.Call(new RandomAttrs(Distribution.Uniform, low, high, shape.ToArray(), dtype)
                .Resolve());
    }

    public static NDArray RandomNormal(double mean, double std, Shape shape, DType dtype = DType.Float32,
        Device? device = null)
    {
        using (device is null ? null : DefaultDevice.Use(device.Value))
            return RandomOps.Random.Call(new RandomAttrs(Distribution.Normal, mean, std, shape.ToArray(), dtype)
                .Resolve());
    }
}
