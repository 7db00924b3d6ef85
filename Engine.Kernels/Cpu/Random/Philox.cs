using System.Runtime.CompilerServices;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel Random Numbers: As
/// Easy as 1, 2, 3" (SC 2011), as in Random123 and cuRAND: a keyed bijection of a 128-bit counter, so the n-th
/// block of a stream is computed directly from (key, n) with no state. That makes streams independent of
/// threading and lets a GPU kernel produce the same values from the same (seed, offset, index).
/// </summary>
/// <remarks>
/// One round, on counter words (x0, x1, x2, x3) and key words (k0, k1), with 64-bit products split into halves:
/// <code>
/// (hi0, lo0) = M0 * x0;  (hi1, lo1) = M1 * x2
/// (x0, x1, x2, x3) = (hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0)
/// (k0, k1) = (k0 + W0, k1 + W1)          // the key schedule, between rounds
/// </code>
/// Ten rounds. Checked against Random123's known-answer vectors (tests/kat_vectors).
/// </remarks>
public static class Philox
{
    /// <summary>Round multipliers.</summary>
    public const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;

    /// <summary>Key schedule increments (Weyl sequence): the golden ratio and sqrt(3) - 1, in 32 bits.</summary>
    public const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>The number of rounds: 10, Random123's and cuRAND's choice (7 already passes BigCrush).</summary>
    public const int Rounds = 10;

    /// <summary>Four 32-bit outputs of one Philox call.</summary>
    public readonly record struct Block(uint X0, uint X1, uint X2, uint X3)
    {
        public uint this[int lane] => lane switch
        {
            0 => X0,
            1 => X1,
            2 => X2,
            3 => X3,
            _ => throw new ArgumentOutOfRangeException(nameof(lane), $"philox: lane {lane} is not in [0, 3]."),
        };

        public override string ToString() => $"{X0:x8} {X1:x8} {X2:x8} {X3:x8}";
    }

    /// <summary>Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Block Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < Rounds; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            (c0, c1, c2, c3) = ((uint)(p1 >> 32) ^ c1 ^ k0, (uint)p1, (uint)(p0 >> 32) ^ c3 ^ k1, (uint)p0);
        }
        return new Block(c0, c1, c2, c3);
    }

    /// <summary>
    /// The engine's streams: key = the seed's (low, high) 32-bit words, counter = (low, high) words of
    /// <paramref name="counter"/>, then 0, 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Block Generate(ulong seed, ulong counter) =>
        Generate((uint)counter, (uint)(counter >> 32), 0, 0, (uint)seed, (uint)(seed >> 32));
}
