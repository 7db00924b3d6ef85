using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// IEEE binary16 conversions on the 16-bit pattern, in integer and double arithmetic that every ILGPU backend
/// compiles (System.Half does not compile to PTX). They give System.Half's results bit for bit: half to double is
/// exact; double to half rounds to nearest, ties to even, straight from the double (no double rounding through
/// float), overflows to infinity, and keeps a NaN's sign and top ten payload bits with the quiet bit set.
/// </summary>
public static class HalfBits
{
    private const ulong DoubleMantissa = (1UL << 52) - 1;

    /// <summary>The double holding the half with bits <paramref name="h"/>.</summary>
    public static double ToDouble(ushort h)
    {
        ulong sign = (ulong)(h >> 15) << 63;
        int exponent = (h >> 10) & 0x1F;
        ulong mantissa = (ulong)(h & 0x3FF);
        if (exponent == 0x1F)
            return Interop.IntAsFloat(sign | 0x7FF0_0000_0000_0000UL | (mantissa != 0 ? 1UL << 51 : 0)
                | mantissa << 42);
        if (exponent == 0)
        {
            // Zero and subnormals: mantissa * 2^-24, exact.
            double v = mantissa * (1.0 / (1 << 24));
            return sign != 0 ? -v : v;
        }
        return Interop.IntAsFloat(sign | (ulong)(exponent - 15 + 1023) << 52 | mantissa << 42);
    }

    /// <summary>The bits of the half nearest <paramref name="x"/> (ties to even).</summary>
    public static ushort FromDouble(double x)
    {
        ulong bits = Interop.FloatAsInt(x);
        int sign = (int)(bits >> 48) & 0x8000;
        int exponent = (int)(bits >> 52) & 0x7FF;
        ulong mantissa = bits & DoubleMantissa;
        if (exponent == 0x7FF)
            return (ushort)(sign | 0x7C00 | (mantissa != 0 ? 0x200 | (int)(mantissa >> 42) : 0));
        int e = exponent - 1023;
        if (e >= 16) return (ushort)(sign | 0x7C00);
        if (e >= -14)
        {
            // A normal half: keep 10 mantissa bits, round on the 42 dropped (a carry may reach the exponent and
            // give the next binade or infinity, both the right answer).
            int h = (e + 15) << 10 | (int)(mantissa >> 42);
            return (ushort)(sign | Round(h, mantissa & ((1UL << 42) - 1), 42));
        }
        // Subnormal or zero: the value in units of 2^-24 is significand * 2^(e - 28).
        int shift = 28 - e;
        if (exponent == 0 || shift > 53) return (ushort)sign;
        ulong significand = mantissa | 1UL << 52;
        int kept = (int)(significand >> shift);
        return (ushort)(sign | Round(kept, significand & ((1UL << shift) - 1), shift));
    }

    /// <summary><paramref name="kept"/> rounded up when the <paramref name="bits"/> dropped bits
    /// <paramref name="rest"/> are above half a unit, or exactly half and kept is odd.</summary>
    private static int Round(int kept, ulong rest, int bits)
    {
        ulong half = 1UL << (bits - 1);
        return rest > half || (rest == half && (kept & 1) != 0) ? kept + 1 : kept;
    }
}
