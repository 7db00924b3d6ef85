"""Golden parameter names, shapes and structural keys of MXNet 1.x's model-zoo networks, without MXNet.

MXNet cannot be installed here, so this script restates, in plain Python, the two things that decide the names:
Gluon 1.x's naming rules (python/mxnet/gluon/block.py: _BlockScope.create, name_scope, the process-wide
NameManager counter per hint, the per-scope counters, prefix='' children, collect_params order and
_collect_params_with_prefix keys) and the constructors of gluon/model_zoo/vision/resnet.py and vgg.py, line for
line. Shapes are those after a forward pass on a (1, 3, S, S) input, with deferred dimensions filled as MXNet's
shape inference fills them: S = 224 for the ResNets (their parameter shapes do not depend on S), S = 32 for VGG
(its first Dense takes 512 * (S / 32)^2 inputs: 25088 at 224, 512 at 32, which keeps the tests small).
It writes Engine.Tests/Gluon/ModelZooGolden.cs, ModelZooGolden.ResNet50.cs and ModelZooGolden.Vgg.cs.

Run: python3 tools/golden/gen_modelzoo_names.py
"""
import os

_global_counter = {}
_scope = [None]  # the current _BlockScope's block, None outside any name_scope


class Block:
    def __init__(self, prefix=None, hint=None):
        hint = hint or type(self).__name__.lower()
        current = _scope[-1]
        if current is None:
            if prefix is None:
                n = _global_counter.get(hint, 0)
                _global_counter[hint] = n + 1
                prefix = '%s%d_' % (hint, n)
            self.prefix = prefix
        else:
            if prefix is None:
                n = current.counter.get(hint, 0)
                current.counter[hint] = n + 1
                prefix = '%s%d_' % (hint, n)
            self.prefix = current.prefix + prefix
        self.empty_prefix = prefix == ''
        self.counter = {}
        self.params = []      # [attribute name, local name, shape]
        self.children = []    # [attribute name, block]

    def name_scope(self):
        block = self

        class Scope:
            def __enter__(self):
                if not block.empty_prefix:
                    _scope.append(block)

            def __exit__(self, *args):
                if not block.empty_prefix:
                    _scope.pop()
        return Scope()

    def child(self, attr, block):
        if block is not None:
            self.children.append([attr, block])
        return block

    def param(self, name, shape):
        self.params.append([name, name, list(shape)])

    def collect(self):
        """collect_params(): own parameters, then the children's, in registration order."""
        out = [(self.prefix + local, tuple(shape)) for _, local, shape in self.params]
        for _, c in self.children:
            out += c.collect()
        return out

    def structural(self, prefix=''):
        """_collect_params_with_prefix(): attribute paths joined with dots."""
        out = [prefix + attr for attr, _, _ in self.params]
        for attr, c in self.children:
            out += c.structural(prefix + attr + '.')
        return out


class HybridSequential(Block):
    def add(self, *blocks):
        for b in blocks:
            self.child(str(len(self.children)), b)

    def forward(self, shape):
        for _, b in self.children:
            shape = b.forward(shape)
        return shape


class Conv2D(Block):
    def __init__(self, channels, kernel_size, strides=1, padding=0, use_bias=True, in_channels=0, prefix=None):
        super().__init__(prefix, 'conv')
        self.k, self.s, self.p = kernel_size, strides, padding
        self.param('weight', (channels, in_channels, kernel_size, kernel_size))
        if use_bias:
            self.param('bias', (channels,))

    def forward(self, shape):
        n, c, h, w = shape
        self.params[0][2][1] = c
        out = lambda d: (d + 2 * self.p - self.k) // self.s + 1
        return (n, self.params[0][2][0], out(h), out(w))


class BatchNorm(Block):
    def __init__(self, scale=True, center=True, in_channels=0, prefix=None):
        super().__init__(prefix, 'batchnorm')
        for name in ('gamma', 'beta', 'running_mean', 'running_var'):
            self.param(name, (in_channels,))

    def forward(self, shape):
        for p in self.params:
            p[2][0] = shape[1]
        return shape


class Activation(Block):
    def __init__(self, act_type, prefix=None):
        super().__init__(prefix, act_type)

    def forward(self, shape):
        return shape


class MaxPool2D(Block):
    def __init__(self, pool_size=2, strides=None, padding=0, prefix=None):
        super().__init__(prefix, 'pool')
        self.k, self.s, self.p = pool_size, strides or pool_size, padding

    def forward(self, shape):
        n, c, h, w = shape
        out = lambda d: (d + 2 * self.p - self.k) // self.s + 1   # pooling_convention 'valid'
        return (n, c, out(h), out(w))


class GlobalAvgPool2D(Block):
    def __init__(self, prefix=None):
        super().__init__(prefix, 'pool')

    def forward(self, shape):
        return (shape[0], shape[1], 1, 1)


class Flatten(Block):
    def forward(self, shape):
        size = 1
        for d in shape[1:]:
            size *= d
        return (shape[0], size)


class Dropout(Block):
    def __init__(self, rate, prefix=None):
        super().__init__(prefix, 'dropout')

    def forward(self, shape):
        return shape


class Dense(Block):
    def __init__(self, units, activation=None, in_units=0, prefix=None):
        super().__init__(prefix, 'dense')
        with self.name_scope():
            self.param('weight', (units, in_units))
            self.param('bias', (units,))
            if activation is not None:
                self.act = self.child('act', Activation(activation, prefix=activation + '_'))

    def forward(self, shape):
        size = 1
        for d in shape[1:]:
            size *= d
        self.params[0][2][1] = size
        return (shape[0], self.params[0][2][0])


# ---- gluon/model_zoo/vision/resnet.py ------------------------------------------------------------------------

def _conv3x3(channels, stride, in_channels):
    return Conv2D(channels, 3, strides=stride, padding=1, use_bias=False, in_channels=in_channels)


class BasicBlockV1(Block):
    def __init__(self, channels, stride, downsample=False, in_channels=0, prefix=None):
        super().__init__(prefix)
        self.body = self.child('body', HybridSequential(prefix=''))
        self.body.add(_conv3x3(channels, stride, in_channels))
        self.body.add(BatchNorm())
        self.body.add(Activation('relu'))
        self.body.add(_conv3x3(channels, 1, channels))
        self.body.add(BatchNorm())
        self.downsample = None
        if downsample:
            self.downsample = self.child('downsample', HybridSequential(prefix=''))
            self.downsample.add(Conv2D(channels, 1, strides=stride, use_bias=False, in_channels=in_channels))
            self.downsample.add(BatchNorm())

    def forward(self, shape):
        out = self.body.forward(shape)
        if self.downsample:
            self.downsample.forward(shape)
        return out


class BottleneckV1(Block):
    def __init__(self, channels, stride, downsample=False, in_channels=0, prefix=None):
        super().__init__(prefix)
        self.body = self.child('body', HybridSequential(prefix=''))
        self.body.add(Conv2D(channels // 4, 1, strides=stride))
        self.body.add(BatchNorm())
        self.body.add(Activation('relu'))
        self.body.add(_conv3x3(channels // 4, 1, channels // 4))
        self.body.add(BatchNorm())
        self.body.add(Activation('relu'))
        self.body.add(Conv2D(channels, 1, strides=1))
        self.body.add(BatchNorm())
        self.downsample = None
        if downsample:
            self.downsample = self.child('downsample', HybridSequential(prefix=''))
            self.downsample.add(Conv2D(channels, 1, strides=stride, use_bias=False, in_channels=in_channels))
            self.downsample.add(BatchNorm())

    forward = BasicBlockV1.forward


class BasicBlockV2(Block):
    def __init__(self, channels, stride, downsample=False, in_channels=0, prefix=None):
        super().__init__(prefix)
        self.bn1 = self.child('bn1', BatchNorm())
        self.conv1 = self.child('conv1', _conv3x3(channels, stride, in_channels))
        self.bn2 = self.child('bn2', BatchNorm())
        self.conv2 = self.child('conv2', _conv3x3(channels, 1, channels))
        self.downsample = None
        if downsample:
            self.downsample = self.child('downsample', Conv2D(channels, 1, stride, use_bias=False,
                                                              in_channels=in_channels))

    def forward(self, shape):
        x = self.bn1.forward(shape)
        if self.downsample:
            self.downsample.forward(x)
        return self.conv2.forward(self.bn2.forward(self.conv1.forward(x)))


class BottleneckV2(Block):
    def __init__(self, channels, stride, downsample=False, in_channels=0, prefix=None):
        super().__init__(prefix)
        self.bn1 = self.child('bn1', BatchNorm())
        self.conv1 = self.child('conv1', Conv2D(channels // 4, 1, strides=1, use_bias=False))
        self.bn2 = self.child('bn2', BatchNorm())
        self.conv2 = self.child('conv2', _conv3x3(channels // 4, stride, channels // 4))
        self.bn3 = self.child('bn3', BatchNorm())
        self.conv3 = self.child('conv3', Conv2D(channels, 1, strides=1, use_bias=False))
        self.downsample = None
        if downsample:
            self.downsample = self.child('downsample', Conv2D(channels, 1, stride, use_bias=False,
                                                              in_channels=in_channels))

    def forward(self, shape):
        x = self.bn1.forward(shape)
        if self.downsample:
            self.downsample.forward(x)
        x = self.bn2.forward(self.conv1.forward(x))
        x = self.bn3.forward(self.conv2.forward(x))
        return self.conv3.forward(x)


def _make_layer(block, layers, channels, stride, stage_index, in_channels=0):
    layer = HybridSequential(prefix='stage%d_' % stage_index)
    with layer.name_scope():
        layer.add(block(channels, stride, channels != in_channels, in_channels=in_channels, prefix=''))
        for _ in range(layers - 1):
            layer.add(block(channels, 1, False, in_channels=channels, prefix=''))
    return layer


class ResNetV1(Block):
    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, prefix=None):
        super().__init__(prefix)
        with self.name_scope():
            self.features = self.child('features', HybridSequential(prefix=''))
            if thumbnail:
                self.features.add(_conv3x3(channels[0], 1, 0))
            else:
                self.features.add(Conv2D(channels[0], 7, 2, 3, use_bias=False))
                self.features.add(BatchNorm())
                self.features.add(Activation('relu'))
                self.features.add(MaxPool2D(3, 2, 1))
            for i, num_layer in enumerate(layers):
                stride = 1 if i == 0 else 2
                self.features.add(_make_layer(block, num_layer, channels[i + 1], stride, i + 1,
                                              in_channels=channels[i]))
            self.features.add(GlobalAvgPool2D())
            self.output = self.child('output', Dense(classes, in_units=channels[-1]))

    def forward(self, shape):
        return self.output.forward(self.features.forward(shape))


class ResNetV2(Block):
    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, prefix=None):
        super().__init__(prefix)
        with self.name_scope():
            self.features = self.child('features', HybridSequential(prefix=''))
            self.features.add(BatchNorm(scale=False, center=False))
            if thumbnail:
                self.features.add(_conv3x3(channels[0], 1, 0))
            else:
                self.features.add(Conv2D(channels[0], 7, 2, 3, use_bias=False))
                self.features.add(BatchNorm())
                self.features.add(Activation('relu'))
                self.features.add(MaxPool2D(3, 2, 1))
            in_channels = channels[0]
            for i, num_layer in enumerate(layers):
                stride = 1 if i == 0 else 2
                self.features.add(_make_layer(block, num_layer, channels[i + 1], stride, i + 1,
                                              in_channels=in_channels))
                in_channels = channels[i + 1]
            self.features.add(BatchNorm())
            self.features.add(Activation('relu'))
            self.features.add(GlobalAvgPool2D())
            self.features.add(Flatten())
            self.output = self.child('output', Dense(classes, in_units=in_channels))

    forward = ResNetV1.forward


# ---- gluon/model_zoo/vision/vgg.py ---------------------------------------------------------------------------

class VGG(Block):
    def __init__(self, layers, filters, classes=1000, batch_norm=False, prefix=None):
        super().__init__(prefix)
        with self.name_scope():
            self.features = self.child('features', self._make_features(layers, filters, batch_norm))
            self.features.add(Dense(4096, activation='relu'))
            self.features.add(Dropout(rate=0.5))
            self.features.add(Dense(4096, activation='relu'))
            self.features.add(Dropout(rate=0.5))
            self.output = self.child('output', Dense(classes))

    def _make_features(self, layers, filters, batch_norm):
        featurizer = HybridSequential(prefix='')
        for i, num in enumerate(layers):
            for _ in range(num):
                featurizer.add(Conv2D(filters[i], 3, padding=1))
                if batch_norm:
                    featurizer.add(BatchNorm())
                featurizer.add(Activation('relu'))
            featurizer.add(MaxPool2D(strides=2))
        return featurizer

    forward = ResNetV1.forward


def emit(name, make, lines, size=224):
    _global_counter.clear()    # each network is the first of its kind in a fresh process: resnetv10_, vgg0_
    net = make()
    out = net.forward((1, 3, size, size))
    params = net.collect()
    keys = net.structural()
    assert len(params) == len(keys)
    ident = ''.join(part.capitalize() for part in name.split('_'))
    lines.append('    /// <summary>%s: %d parameters; output %s for a (1, 3, %d, %d) input.</summary>'
                 % (name, len(params), out, size, size))
    lines.append('    public static readonly (string Name, int[] Shape, string Key)[] %s =' % ident)
    lines.append('    [')
    for (pname, shape), key in zip(params, keys):
        lines.append('        ("%s", [%s], "%s"),' % (pname, ', '.join(str(d) for d in shape), key))
    lines.append('    ];')
    lines.append('')


def write(suffix, emitters):
    """Writes one partial file of the golden class (one family per file keeps each file short)."""
    lines = [
        '// Generated by tools/golden/gen_modelzoo_names.py from MXNet 1.x\'s naming rules and model-zoo source;',
        '// do not edit by hand.',
        'namespace Engine.Tests.Gluon;',
        '',
        '/// <summary>MXNet\'s parameter names, shapes (after a forward pass) and structural keys.</summary>',
        'internal static partial class ModelZooGolden',
        '{',
    ]
    for emitter in emitters:
        emitter(lines)
    lines[-1] = '}'
    name = 'ModelZooGolden%s.cs' % suffix
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'Engine.Tests', 'Gluon', name)
    with open(os.path.normpath(path), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def main():
    basic, bottleneck = [64, 64, 128, 256, 512], [64, 256, 512, 1024, 2048]
    write('', [
        lambda l: emit('resnet18_v1', lambda: ResNetV1(BasicBlockV1, [2, 2, 2, 2], basic), l),
        lambda l: emit('resnet18_v2', lambda: ResNetV2(BasicBlockV2, [2, 2, 2, 2], basic), l),
    ])
    write('.ResNet50', [
        lambda l: emit('resnet50_v1', lambda: ResNetV1(BottleneckV1, [3, 4, 6, 3], bottleneck), l),
        lambda l: emit('resnet50_v2', lambda: ResNetV2(BottleneckV2, [3, 4, 6, 3], bottleneck), l),
    ])
    write('.Vgg', [
        lambda l: emit('vgg11', lambda: VGG([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]), l, size=32),
        lambda l: emit('vgg11_bn', lambda: VGG([1, 1, 2, 2, 2], [64, 128, 256, 512, 512], batch_norm=True), l,
                       size=32),
    ])


if __name__ == '__main__':
    main()
