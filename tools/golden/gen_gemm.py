"""Golden data for CpuGemm / CpuGemm.BatchedGemm: C = alpha * op(A) @ op(B) + beta * C0 with torch.matmul.

Each case stores A and B as laid out in memory (A is k x m when trans_a, B is n x k when trans_b; batched cases
add a leading batch axis, absent on a broadcast operand), C0 when beta != 0, and the result C.
Run with Debian's PyTorch: /usr/bin/python3 tools/golden/gen_gemm.py
"""
import torch

from common import generator, save_case

FAMILY = "gemm"


def case(name, m, k, n, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, batch=None, broadcast=None,
         dtype=torch.float32, seed=0):
    g = generator(seed)
    lead_a = [] if batch is None or broadcast == "a" else [batch]
    lead_b = [] if batch is None or broadcast == "b" else [batch]
    a = torch.rand(lead_a + ([k, m] if trans_a else [m, k]), generator=g, dtype=dtype) * 2 - 1
    b = torch.rand(lead_b + ([n, k] if trans_b else [k, n]), generator=g, dtype=dtype) * 2 - 1
    c0 = torch.rand(([] if batch is None else [batch]) + [m, n], generator=g, dtype=dtype) * 2 - 1
    op_a = a.transpose(-1, -2) if trans_a else a
    op_b = b.transpose(-1, -2) if trans_b else b
    c = alpha * torch.matmul(op_a, op_b)
    if beta != 0:
        c = c + beta * c0
    attrs = {"m": m, "k": k, "n": n, "trans_a": trans_a, "trans_b": trans_b, "alpha": alpha, "beta": beta,
             "batch": batch or 0, "broadcast": broadcast or ""}
    arrays = {"a": a, "b": b, "c": c}
    if beta != 0:
        arrays["c0"] = c0
    save_case(FAMILY, name, attrs, **arrays)


def main():
    case("nn_m7_k13_n5", 7, 13, 5, seed=1)
    case("nn_m64_k33_n17", 64, 33, 17, seed=2)
    case("tn_m17_k65_n33", 17, 65, 33, trans_a=True, seed=3)
    case("nt_m33_k17_n70", 33, 17, 70, trans_b=True, seed=4)
    case("tt_m5_k128_n9", 5, 128, 9, trans_a=True, trans_b=True, seed=5)
    case("nt_alpha_beta_m16_k20_n12", 16, 20, 12, trans_b=True, alpha=0.5, beta=-1.5, seed=6)
    case("nn_m1_k300_n1", 1, 300, 1, seed=7)
    case("nn_f64_m9_k11_n7", 9, 11, 7, alpha=2.0, beta=1.0, dtype=torch.float64, seed=8)
    case("batched_b3_m8_k12_n10", 8, 12, 10, batch=3, seed=9)
    case("batched_bcast_b_b4_m6_k9_n11", 6, 9, 11, trans_b=True, batch=4, broadcast="b", seed=10)
    case("batched_bcast_a_b2_m5_k7_n3", 5, 7, 3, trans_a=True, batch=2, broadcast="a", seed=11)


if __name__ == "__main__":
    main()
