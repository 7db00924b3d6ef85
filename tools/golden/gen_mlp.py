"""Golden gradients of a two-layer MLP (20-16-5, ReLU, mean softmax cross-entropy) from PyTorch autograd."""
import torch
import torch.nn.functional as F

from common import generator, save_case

g = generator(3)
x = torch.randn(8, 20, generator=g)
labels = torch.randint(0, 5, (8,), generator=g)
w1 = (torch.randn(16, 20, generator=g) * 0.3).requires_grad_()
b1 = (torch.randn(16, generator=g) * 0.1).requires_grad_()
w2 = (torch.randn(5, 16, generator=g) * 0.3).requires_grad_()
b2 = (torch.randn(5, generator=g) * 0.1).requires_grad_()

hidden = F.relu(F.linear(x, w1, b1))
logits = F.linear(hidden, w2, b2)
loss = F.cross_entropy(logits, labels)
loss.backward()

save_case("mlp", "two_layer", {"hidden": 16, "classes": 5},
          x=x, labels=labels, w1=w1, b1=b1, w2=w2, b2=b2, loss=loss.reshape(1),
          dw1=w1.grad, db1=b1.grad, dw2=w2.grad, db2=b2.grad)
