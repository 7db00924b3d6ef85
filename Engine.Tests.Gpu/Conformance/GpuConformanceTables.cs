using Engine.Tests.Conformance;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

// The main suite's conformance tables (Engine.Tests/Conformance), each bound to the GPU device under test: the same
// cases, naive references and PyTorch goldens (Engine.Tests/Golden, copied beside this assembly by the project
// reference), run through the GPU backend. A [TestFixture] here replaces the tables' per-device fixture source, so
// each runs once, on GpuTestDevice.Device; the tables shrink their largest cases on the simulator
// (DeviceFixture.Simulated). Kernel-level comparisons with the CPU backend are in Kernels/.

[TestFixture, NonParallelizable]
public sealed class GpuElementwiseConformance() : ElementwiseConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuReductionConformance() : ReductionConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuLayoutConformance() : LayoutConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuGemmConformance() : GemmConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuConvolutionConformance() : ConvolutionConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuPoolingConformance() : PoolingConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuConvolutionNdConformance() : ConvolutionNdConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuPoolingNdConformance() : PoolingNdConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuNormalizationConformance() : NormalizationConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuSampleNormConformance() : SampleNormConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuNormGoldens() : Engine.Tests.Gluon.NormGoldenTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuSoftmaxConformance() : SoftmaxConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuRandomConformance() : RandomConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuNonContiguousConformance() : NonContiguousConformanceTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuOptimizerGoldens() : Engine.Tests.Gluon.OptimizerGoldenTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuRnnGoldens() : Engine.Tests.Recurrent.RnnGoldenTests(GpuTestDevice.Device);

[TestFixture, NonParallelizable]
public sealed class GpuCtcLossTests() : Engine.Tests.Gluon.CtcLossTests(GpuTestDevice.Device);
