"""Golden data for the fused RNN op (CpuRnn) and the Gluon RNN, LSTM and GRU layers.

Writes Engine.Tests/Golden/rnn/*.npz with PyTorch's float32 results and autograd gradients of nn.RNN, nn.LSTM and
nn.GRU in TNC layout (batch_first=False). Parameters are stored under MXNet's Gluon names, converted from PyTorch's:

  PyTorch                          MXNet Gluon
  weight_ih_l{k}[_reverse]  ->     l{k}_i2h_weight  (r{k}_i2h_weight for the reverse direction)
  weight_hh_l{k}[_reverse]  ->     l{k}_h2h_weight
  bias_ih_l{k}[_reverse]    ->     l{k}_i2h_bias
  bias_hh_l{k}[_reverse]    ->     l{k}_h2h_bias

The gate blocks need no reordering: PyTorch's LSTM rows are (i, f, g, o) and MXNet's (i, f, c, o) with c the
same cell candidate g; PyTorch's GRU rows are (r, z, n) as MXNet's, with the same n = tanh(W_in x + b_in +
r * (W_hn h + b_hn)). Gradients flow from loss = sum(y * dy) + sum(hy * dhy) (+ sum(cy * dcy) for LSTM); each
parameter's gradient is stored as grad_<name>. Run: /usr/bin/python3 tools/golden/gen_rnn.py
"""
import torch

from common import generator, save_case

FAMILY = "rnn"


def mxnet_name(torch_name):
    kind, part, layer = torch_name.split("_")[:3]
    reverse = torch_name.endswith("_reverse")
    prefix = ("r" if reverse else "l") + layer[1:]
    proj = "i2h" if part == "ih" else "h2h"
    return f"{prefix}_{proj}_{kind}"


def case(name, mode, seq, batch, inputs, hidden, layers, bidirectional, seed=0):
    g = generator(seed)
    if mode == "lstm":
        net = torch.nn.LSTM(inputs, hidden, layers, bidirectional=bidirectional)
    elif mode == "gru":
        net = torch.nn.GRU(inputs, hidden, layers, bidirectional=bidirectional)
    else:
        net = torch.nn.RNN(inputs, hidden, layers, nonlinearity=mode[4:], bidirectional=bidirectional)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.rand(p.shape, generator=g) - 0.5)
    d = 2 if bidirectional else 1
    x = torch.randn(seq, batch, inputs, generator=g).requires_grad_()
    h0 = (torch.randn(layers * d, batch, hidden, generator=g) * 0.5).requires_grad_()
    c0 = (torch.randn(layers * d, batch, hidden, generator=g) * 0.5).requires_grad_()
    if mode == "lstm":
        y, (hy, cy) = net(x, (h0, c0))
    else:
        y, hy = net(x, h0)
        cy = None
    dy = torch.randn(y.shape, generator=g)
    dhy = torch.randn(hy.shape, generator=g)
    loss = (y * dy).sum() + (hy * dhy).sum()
    arrays = dict(x=x, h0=h0, y=y, hy=hy, dy=dy, dhy=dhy)
    if cy is not None:
        dcy = torch.randn(cy.shape, generator=g)
        loss = loss + (cy * dcy).sum()
        arrays.update(c0=c0, cy=cy, dcy=dcy)
    loss.backward()
    arrays.update(dx=x.grad, dh0=h0.grad)
    if cy is not None:
        arrays["dc0"] = c0.grad
    for pname, p in net.named_parameters():
        arrays[mxnet_name(pname)] = p
        arrays["grad_" + mxnet_name(pname)] = p.grad
    save_case(FAMILY, name, {"mode": mode, "hidden": hidden, "layers": layers, "bidirectional": bidirectional},
              **arrays)


case("lstm_2layer_bidirectional", "lstm", 5, 3, 4, 6, 2, True, seed=1)
case("lstm_1layer_h20", "lstm", 4, 2, 5, 20, 1, False, seed=2)
case("gru_2layer_bidirectional", "gru", 5, 3, 4, 6, 2, True, seed=3)
case("gru_1layer_h20", "gru", 4, 2, 5, 20, 1, False, seed=4)
case("rnn_tanh_2layer_bidirectional", "rnn_tanh", 5, 3, 4, 6, 2, True, seed=5)
case("rnn_relu_2layer_h20", "rnn_relu", 4, 2, 5, 20, 2, False, seed=6)
