"""Golden data for the Gluon losses that PyTorch has an equivalent of (Engine.Gluon/Losses).

Writes Engine.Tests/Golden/loss/*.npz, float64, each with the inputs, the per-sample loss as MXNet defines it
(PyTorch's reduction='none' result averaged over every axis but the batch axis), a head gradient 'dloss' and
'dpred', the gradient of sum(dloss * loss) with respect to the first input:
  bce_*        F.binary_cross_entropy_with_logits (pos_weight) and F.binary_cross_entropy on probabilities
  kldiv_*      F.kl_div on log-probabilities (from_logits) or on log_softmax of scores
  huber_*      F.smooth_l1_loss(beta=rho), which is MXNet's HuberLoss(rho)
  logistic_*   F.soft_margin_loss, MXNet's LogisticLoss with signed labels
  cosine_*     F.cosine_embedding_loss
  poisson_*    F.poisson_nll_loss, averaged over everything as MXNet's PoissonNLLLoss (a scalar)
  ctc_*        F.ctc_loss on log_softmax of the scores with blank = alphabet_size - 1 (MXNet Gluon's 'last')
Run: /usr/bin/python3 tools/golden/gen_loss.py
"""
import torch
import torch.nn.functional as F

from common import generator, save_case

FAMILY = "loss"


def randn(g, *shape, scale=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def per_sample(loss):
    return loss.mean(dim=tuple(range(1, loss.dim()))) if loss.dim() > 1 else loss


def finish(name, attrs, pred, loss, g, **arrays):
    dloss = randn(g, *loss.shape) if loss.dim() > 0 else torch.tensor(1.5, dtype=torch.float64)
    (loss * dloss).sum().backward()
    save_case(FAMILY, name, attrs, pred=pred, loss=loss, dloss=dloss, dpred=pred.grad, **arrays)


def bce(name, shape, pos_weight, from_sigmoid, seed):
    g = generator(seed)
    x = randn(g, *shape, scale=3.0)
    label = (torch.rand(*shape, generator=g, dtype=torch.float64) > 0.5).double()
    label[0, 0] = 0.3  # a soft label
    pw = torch.rand(shape[-1], generator=g, dtype=torch.float64) * 3 + 0.2 if pos_weight else None
    if from_sigmoid:
        pred = torch.sigmoid(x).detach().requires_grad_()
        if pw is None:
            loss = F.binary_cross_entropy(pred, label, reduction="none")
        else:
            # PyTorch's binary_cross_entropy has no pos_weight: the same formula written out.
            loss = -(pw * label * torch.log(pred) + (1 - label) * torch.log(1 - pred))
    else:
        pred = x.requires_grad_()
        loss = F.binary_cross_entropy_with_logits(pred, label, pos_weight=pw, reduction="none")
    arrays = {"label": label}
    if pw is not None:
        arrays["pos_weight"] = pw.reshape(1, -1)
    finish(name, {"from_sigmoid": from_sigmoid}, pred, per_sample(loss), g, **arrays)


def kldiv(name, shape, from_logits, axis, seed):
    g = generator(seed)
    label = F.softmax(randn(g, *shape), dim=axis)
    label[0].view(-1)[0] = 0.0  # a zero target contributes 0
    pred = (F.log_softmax(randn(g, *shape), dim=axis) if from_logits else randn(g, *shape)).requires_grad_()
    logp = pred if from_logits else F.log_softmax(pred, dim=axis)
    loss = F.kl_div(logp, label, reduction="none")
    finish(name, {"from_logits": from_logits, "axis": axis}, pred, per_sample(loss), g, label=label)


def huber(name, shape, rho, seed):
    g = generator(seed)
    pred = randn(g, *shape, scale=2.0).requires_grad_()
    label = randn(g, *shape, scale=2.0)
    loss = F.smooth_l1_loss(pred, label, beta=rho, reduction="none")
    finish(name, {"rho": rho}, pred, per_sample(loss), g, label=label)


def logistic(name, shape, seed):
    g = generator(seed)
    pred = randn(g, *shape, scale=4.0).requires_grad_()
    label = torch.where(torch.rand(*shape, generator=g) > 0.5, 1.0, -1.0).double()
    loss = F.soft_margin_loss(pred, label, reduction="none")
    finish(name, {}, pred, per_sample(loss), g, label=label)


def cosine(name, n, d, margin, seed):
    g = generator(seed)
    x1 = randn(g, n, d).requires_grad_()
    x2 = randn(g, n, d)
    x2[1] = x1[1].detach() * 2.0  # identical direction
    label = torch.tensor([1.0 if k % 2 == 0 else -1.0 for k in range(n)], dtype=torch.float64)
    loss = F.cosine_embedding_loss(x1, x2, label, margin=margin, reduction="none")
    finish(name, {"margin": margin}, x1, loss, g, input2=x2, label=label)


def poisson(name, shape, from_logits, full, seed):
    g = generator(seed)
    target = torch.randint(0, 6, shape, generator=g).double()
    if from_logits:
        pred = randn(g, *shape).requires_grad_()
    else:
        pred = (torch.rand(*shape, generator=g, dtype=torch.float64) * 4 + 0.1).requires_grad_()
    loss = F.poisson_nll_loss(pred, target, log_input=from_logits, full=full, eps=1e-8, reduction="none").mean()
    finish(name, {"from_logits": from_logits, "compute_full": full}, pred, loss, g, target=target)


def ctc(name, t, n, c, label_lengths, input_lengths, seed, repeat=True):
    """Scores (T, N, C); labels padded with -1 to the longest, drawn from 0..C-2 (C-1 is the blank)."""
    g = generator(seed)
    pred = randn(g, t, n, c).requires_grad_()
    width = max(label_lengths)
    label = torch.full((n, width), -1.0, dtype=torch.float64)
    for k, length in enumerate(label_lengths):
        if repeat:
            label[k, :length] = torch.randint(0, c - 1, (length,), generator=g).double()
        else:  # no symbol twice in a row: T = label length is feasible
            label[k, :length] = (torch.arange(length) + k) % (c - 1)
    if repeat:
        label[1, :2] = label[1, 0]  # a repeated symbol needs a blank between
    targets = torch.cat([label[k, :length] for k, length in enumerate(label_lengths)]).long()
    loss = F.ctc_loss(F.log_softmax(pred, dim=2), targets, torch.tensor(input_lengths),
                      torch.tensor(label_lengths), blank=c - 1, reduction="none", zero_infinity=False)
    finish(name, {"layout": "TNC"}, pred, loss, g, label=label,
           pred_lengths=torch.tensor(input_lengths, dtype=torch.float64),
           label_lengths=torch.tensor(label_lengths, dtype=torch.float64))


def main():
    bce("bce_logits", (4, 5), pos_weight=False, from_sigmoid=False, seed=1)
    bce("bce_logits_pos_weight", (4, 5), pos_weight=True, from_sigmoid=False, seed=2)
    bce("bce_sigmoid", (4, 5), pos_weight=False, from_sigmoid=True, seed=3)
    bce("bce_sigmoid_pos_weight", (4, 5), pos_weight=True, from_sigmoid=True, seed=4)
    kldiv("kldiv_logits", (3, 4, 5), from_logits=True, axis=-1, seed=5)
    kldiv("kldiv_scores", (3, 6), from_logits=False, axis=-1, seed=6)
    huber("huber_rho1", (4, 6), 1.0, seed=7)
    huber("huber_rho_half", (3, 2, 4), 0.5, seed=8)
    logistic("logistic_signed", (5, 4), seed=9)
    cosine("cosine_margin", 6, 5, 0.2, seed=10)
    cosine("cosine_no_margin", 4, 3, 0.0, seed=11)
    poisson("poisson_logits", (4, 5), from_logits=True, full=False, seed=12)
    poisson("poisson_rates_full", (4, 5), from_logits=False, full=True, seed=13)
    poisson("poisson_logits_full", (3, 4), from_logits=True, full=True, seed=14)
    ctc("ctc_full_lengths", 12, 3, 5, [3, 4, 2], [12, 12, 12], seed=15)
    ctc("ctc_var_lengths", 10, 4, 6, [2, 3, 1, 4], [10, 7, 5, 9], seed=16)
    ctc("ctc_tight", 5, 2, 4, [3, 5], [5, 5], seed=17, repeat=False)


if __name__ == "__main__":
    main()
