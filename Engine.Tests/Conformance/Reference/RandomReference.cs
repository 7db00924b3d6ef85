namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// Philox4x32-10 and the engine's (seed, offset, index) -> value mapping, transcribed one element at a time from
/// the Random123 paper and the CpuRandom documentation. This is what a CUDA port must reproduce.
/// </summary>
public static class RandomReference
{
    /// <summary>Philox4x32-10 as in the paper: counter[4], key[2], ten rounds, key bumped between rounds.</summary>
    public static uint[] Philox(uint[] counter, uint[] key)
    {
        var x = (uint[])counter.Clone();
        var k = (uint[])key.Clone();
        for (int round = 0; round < 10; round++)
        {
            ulong product0 = Math.BigMul(0xD2511F53u, x[0]);
            ulong product1 = Math.BigMul(0xCD9E8D57u, x[2]);
            uint hi0 = (uint)(product0 >> 32), lo0 = (uint)product0;
            uint hi1 = (uint)(product1 >> 32), lo1 = (uint)product1;
            x = [hi1 ^ x[1] ^ k[0], lo1, hi0 ^ x[3] ^ k[1], lo0];
            k[0] += 0x9E3779B9u;
            k[1] += 0xBB67AE85u;
        }
        return x;
    }

    public static uint[] Block(ulong seed, ulong counter) =>
        Philox([(uint)counter, (uint)(counter >> 32), 0, 0], [(uint)seed, (uint)(seed >> 32)]);

    /// <summary>Word i of a 32-bit stream: X[i % 4] of block(offset + i / 4).</summary>
    public static uint Word(ulong seed, ulong offset, long i) => Block(seed, offset + (ulong)(i / 4))[i % 4];

    public static double U24(uint w) => (w >> 8) / 16777216.0;

    public static double U53(uint high, uint low) => ((((ulong)high << 32) | low) >> 11) / 9007199254740992.0;

    public static float UniformFloat(ulong seed, ulong offset, long i, float low, float high) =>
        MathF.FusedMultiplyAdd(high - low, (float)U24(Word(seed, offset, i)), low);

    public static double UniformDouble(ulong seed, ulong offset, long i, double low, double high)
    {
        uint[] b = Block(seed, offset + (ulong)(i / 2));
        int h = (int)(i % 2);
        return Math.FusedMultiplyAdd(high - low, U53(b[2 * h], b[2 * h + 1]), low);
    }

    public static float NormalFloat(ulong seed, ulong offset, long i, float mean, float std)
    {
        uint[] b = Block(seed, offset + (ulong)(i / 4));
        int pair = (int)(i % 4) / 2;
        double u1 = ((b[2 * pair] >> 8) + 1) / 16777216.0;
        double u2 = U24(b[2 * pair + 1]);
        double z = BoxMuller(u1, u2, odd: i % 2 == 1);
        return (float)Math.FusedMultiplyAdd(std, z, mean);
    }

    public static double NormalDouble(ulong seed, ulong offset, long i, double mean, double std)
    {
        uint[] b = Block(seed, offset + (ulong)(i / 2));
        double u1 = U53(b[0], b[1]) + 1.0 / 9007199254740992.0;
        double u2 = U53(b[2], b[3]);
        return Math.FusedMultiplyAdd(std, BoxMuller(u1, u2, odd: i % 2 == 1), mean);
    }

    public static bool Keep(ulong seed, ulong offset, long i, double p) => U24(Word(seed, offset, i)) < p;

    private static double BoxMuller(double u1, double u2, bool odd)
    {
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        double t = 2 * Math.PI * u2;
        return odd ? r * Math.Sin(t) : r * Math.Cos(t);
    }
}
