#!/usr/bin/python3
"""Tests of the benchmark harness: both sides list the same cases, the command lines fail clearly, the JSON lines
carry their fields, and compare.py matches, merges and ranks rows.

    dotnet build Engine.Bench -c Release && /usr/bin/python3 -m unittest discover -s tools/bench -v

Tests that need the built Engine.Bench or PyTorch skip, saying why, when either is missing.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ENGINE_DLL = os.path.join(ROOT, "Engine.Bench", "bin", "Release", "net10.0", "Engine.Bench.dll")
TORCH_SCRIPT = os.path.join(HERE, "torch_baseline.py")
COMPARE = os.path.join(HERE, "compare.py")
SUITES = ("elementwise", "gemm", "conv", "layers", "train", "rnn", "infer")
FIELDS = ("suite", "case", "threads", "median_ms", "min_ms", "q1_ms", "q3_ms", "samples", "calls_per_sample")

sys.path.insert(0, HERE)
import compare  # noqa: E402


def has_torch():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def engine(*args):
    return subprocess.run(["dotnet", ENGINE_DLL, *args], capture_output=True, text=True, timeout=600)


def torch_baseline(*args):
    return subprocess.run([sys.executable, TORCH_SCRIPT, *args], capture_output=True, text=True, timeout=600)


need_engine = unittest.skipUnless(os.path.exists(ENGINE_DLL),
                                  "Engine.Bench is not built: run dotnet build Engine.Bench -c Release")
need_torch = unittest.skipUnless(has_torch(), f"{sys.executable} cannot import torch")


class HarnessTests(unittest.TestCase):
    @need_engine
    @need_torch
    def test_both_sides_list_the_same_cases_in_the_same_order(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                e = engine(suite, "--list")
                t = torch_baseline(suite, "--list")
                self.assertEqual(e.returncode, 0, e.stderr)
                self.assertEqual(t.returncode, 0, t.stderr)
                self.assertGreater(len(e.stdout.splitlines()), 2)
                self.assertEqual(e.stdout.splitlines(), t.stdout.splitlines())

    @need_engine
    def test_list_honours_the_filter(self):
        e = engine("conv", "--list", "--filter", "resnet.l2a")
        self.assertEqual([line.split()[-1] for line in e.stdout.splitlines()], ["fwd", "bwd_data", "bwd_weight"])

    @need_engine
    def test_a_missing_cuda_device_fails_with_the_gpu_support_report(self):
        e = engine("gemm", "--device", "cuda:0")
        if e.returncode == 0:
            self.skipTest("this machine has a CUDA device")
        self.assertEqual(e.returncode, 3)
        self.assertIn("is not available", e.stderr)
        self.assertIn("GPU support:", e.stderr)
        self.assertEqual(e.stdout, "")

    @need_engine
    def test_suites_run_on_the_simulated_gpu(self):
        # One small case per kind of suite: Nd-built arrays (gemm through Nd.Dot) and the layer operators.
        for args in (["gemm", "--filter", "infer.b1.fwd"], ["layers", "--filter", "softmax resnet.logits"]):
            with self.subTest(args=args):
                e = engine(*args, "--device", "gpusim", "--repeat", "1", "--budget", "0.01")
                self.assertEqual(e.returncode, 0, e.stderr)
                rows = [json.loads(line) for line in e.stdout.splitlines()]
                self.assertGreater(len(rows), 0)
                for row in rows:
                    self.assertEqual(row["device"], "gpusim(0)")
                    self.assertGreater(row["median_ms"], 0)

    @need_engine
    def test_bad_arguments_fail_and_say_why(self):
        cases = [(["nosuch"], "unknown suite 'nosuch'"), (["gemm", "--threads", "0"], "positive integer"),
                 (["gemm", "--bogus"], "unknown option '--bogus'"), (["gemm", "--device", "tpu"], "is not known"),
                 (["gemm", "--repeat"], "needs a value")]
        for args, message in cases:
            with self.subTest(args=args):
                e = engine(*args)
                self.assertEqual(e.returncode, 2)
                self.assertIn(message, e.stderr)

    @need_engine
    def test_engine_prints_and_writes_json_lines(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "e.jsonl")
            e = engine("gemm", "--filter", "square NN 256x", "--repeat", "2", "--budget", "0.01", "--threads", "2",
                       "--out", out)
            self.assertEqual(e.returncode, 0, e.stderr)
            with open(out) as f:
                self.assertEqual(f.read().splitlines(), e.stdout.splitlines())
        rows = [json.loads(line) for line in e.stdout.splitlines()]
        self.assertEqual(len(rows), 1)
        row = rows[0]
        for field in FIELDS + ("gflops",):
            self.assertIn(field, row)
        self.assertEqual((row["suite"], row["case"], row["threads"]), ("gemm", "square NN 256x256x256", 2))
        self.assertLessEqual(row["min_ms"], row["median_ms"])
        self.assertAlmostEqual(row["gflops"], 2 * 256 ** 3 / row["median_ms"] / 1e6, delta=row["gflops"] * 0.01)

    @need_torch
    def test_torch_prints_json_lines_marked_as_its_own(self):
        t = torch_baseline("conv", "--filter", "lenet.conv2", "--repeat", "2", "--budget", "0.01")
        self.assertEqual(t.returncode, 0, t.stderr)
        rows = [json.loads(line) for line in t.stdout.splitlines()]
        self.assertEqual([r["case"].split()[-1] for r in rows], ["fwd", "bwd_data", "bwd_weight"])
        for row in rows:
            self.assertEqual(row["peer"], "torch")
            for field in FIELDS + ("gflops",):
                self.assertIn(field, row)

    @need_engine
    def test_train_steps_reduce_the_loss(self):
        e = engine("train", "--filter", "mlp", "--repeat", "3", "--budget", "0.01")
        self.assertEqual(e.returncode, 0, e.stderr)
        first, last = (float(v) for v in e.stderr.split("loss ")[1].split(" over")[0].split(" -> "))
        self.assertLess(last, first)


def serve(*commands, env=None):
    """torch_baseline.py --serve fed COMMANDS; returns the process result and its stdout as JSON objects."""
    t = subprocess.run([sys.executable, TORCH_SCRIPT, "--serve"], input="".join(c + "\n" for c in commands),
                       capture_output=True, text=True, timeout=300, env=env)
    return t, [json.loads(line) for line in t.stdout.splitlines()]


class ServeTests(unittest.TestCase):
    """torch_baseline.py --serve, the PyTorch side of Engine.Bench's vs-torch suite."""

    def test_samples_are_counted_or_timed(self):
        import torch_baseline
        calls = []
        self.assertEqual(len(torch_baseline.time_samples(lambda: calls.append(1), "3", 4)), 3)
        self.assertEqual(len(calls), 12)
        times = torch_baseline.time_samples(lambda: time.sleep(0.002), "0.01s", 1)
        self.assertGreaterEqual(sum(times), 10 * 0.9)
        self.assertTrue(all(t >= 2 for t in times))

    @need_torch
    def test_serves_cases_of_the_suites_and_refuses_bad_commands(self):
        t, replies = serve("run infer 3 50 dispatch relu 256", "run gemm 2 1 square NN 256x256x256",
                           "run gemm 1 1 no such case", "run infer 0 1 dispatch add 256", "walk", "quit")
        self.assertEqual(t.returncode, 0, t.stderr)
        ready, relu, gemm, missing, zero, walk = replies
        self.assertTrue(ready["ready"])
        self.assertEqual(ready["threads"], 1)
        self.assertIn("aten", ready)
        self.assertIn("omp_wait_policy", ready)
        self.assertEqual((relu["case"], relu["calls_per_sample"], len(relu["times_ms"])), ("dispatch relu 256", 50, 3))
        self.assertTrue(all(ms > 0 for ms in relu["times_ms"] + gemm["times_ms"]))
        self.assertEqual(len(gemm["times_ms"]), 2)
        self.assertIn("no case 'no such case'", missing["error"])
        self.assertIn("positive", zero["error"])
        self.assertIn("unknown command 'walk'", walk["error"])


class VsTorchTests(unittest.TestCase):
    @need_engine
    @need_torch
    def test_takes_turns_and_divides_engine_by_torch(self):
        e = engine("vs-torch", "--filter", "dispatch relu", "--budget", "0.05")
        self.assertEqual(e.returncode, 0, e.stderr)
        self.assertIn("OpenBLAS core", e.stderr)
        self.assertIn("OMP_WAIT_POLICY", e.stderr)
        row = json.loads(e.stdout.splitlines()[0])
        for field in FIELDS + ("peer", "peer_min_ms", "peer_median_ms", "ratio", "median_ratio"):
            self.assertIn(field, row)
        self.assertEqual((row["suite"], row["case"], row["peer"]), ("vs-torch", "dispatch relu 256", "torch"))
        self.assertGreaterEqual(row["samples"], 5)
        self.assertAlmostEqual(row["ratio"], row["min_ms"] / row["peer_min_ms"], delta=0.01 * row["ratio"] + 0.002)
        self.assertAlmostEqual(row["median_ratio"], row["median_ms"] / row["peer_median_ms"],
                               delta=0.01 * row["median_ratio"] + 0.002)
        self.assertIn("dispatch relu 256", e.stdout.splitlines()[2])  # the table, after its header

    @need_engine
    def test_a_peer_that_cannot_import_torch_is_named_with_the_fix(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "torch.py"), "w") as f:
                f.write("raise ImportError('no torch in this test')\n")
            e = subprocess.run(["dotnet", ENGINE_DLL, "vs-torch", "--filter", "relu"], capture_output=True,
                               text=True, timeout=300, env={**os.environ, "PYTHONPATH": d})
        self.assertEqual(e.returncode, 4)
        self.assertIn("torch_baseline.py --serve ended", e.stderr)
        self.assertIn("python3-torch", e.stderr)
        self.assertIn("no torch in this test", e.stderr)


class CompareTests(unittest.TestCase):
    def write(self, d, name, rows):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        return path

    def row(self, case, ms, threads=1, suite="gemm", **extra):
        return {"suite": suite, "case": case, "threads": threads, "median_ms": ms, **extra}

    def test_keeps_the_best_round_and_divides_engine_by_torch(self):
        with tempfile.TemporaryDirectory() as d:
            e1 = self.write(d, "e1", [self.row("a", 4.0, gflops=1.0), self.row("b", 1.0)])
            e2 = self.write(d, "e2", [self.row("a", 3.0, gflops=2.0), self.row("b", 2.0)])
            t1 = self.write(d, "t1", [self.row("a", 1.5), self.row("b", 4.0), self.row("c", 1.0, threads=2)])
            rows = compare.build_rows(compare.read([e1, e2], "engine"), compare.read([t1], "torch"))
        by_case = {(r["case"], r["threads"]): r for r in rows}
        self.assertEqual(by_case[("a", 1)]["engine"]["median_ms"], 3.0)
        self.assertEqual(by_case[("a", 1)]["engine"]["gflops"], 2.0)
        self.assertAlmostEqual(by_case[("a", 1)]["ratio"], 2.0)
        self.assertAlmostEqual(by_case[("b", 1)]["ratio"], 0.25)
        self.assertIsNone(by_case[("c", 2)]["ratio"])
        self.assertEqual([(r["case"], r["threads"]) for r in rows], [("a", 1), ("b", 1), ("c", 2)])

    def test_orders_suites_then_threads_then_file_order(self):
        with tempfile.TemporaryDirectory() as d:
            e = self.write(d, "e", [self.row("z", 1, suite="train"), self.row("y", 1, threads=2),
                                    self.row("x", 1), self.row("w", 1, suite="conv")])
            rows = compare.build_rows(compare.read([e], "engine"), {})
        self.assertEqual([r["case"] for r in rows], ["x", "y", "w", "z"])

    def test_writes_markdown_with_the_worst_ratios_first(self):
        with tempfile.TemporaryDirectory() as d:
            e = self.write(d, "e", [self.row("fast", 1.0), self.row("slow", 9.0), self.row("mid", 2.0)])
            t = self.write(d, "t", [self.row("fast", 2.0), self.row("slow", 1.0), self.row("mid", 1.0)])
            md = os.path.join(d, "c.md")
            out = subprocess.run([sys.executable, COMPARE, "--engine", e, "--torch", t, "--markdown", md,
                                  "--worst", "2"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            with open(md) as f:
                text = f.read()
        worst = text.split("### Worst 2 ratios")[1]
        self.assertLess(worst.index("| slow |"), worst.index("| mid |"))
        self.assertNotIn("| fast |", worst)
        self.assertIn("| gemm | slow | 1 | 9.000 | 1.000 | 9.00 |", text)

    def test_engine_only_when_there_is_no_torch_file(self):
        with tempfile.TemporaryDirectory() as d:
            e = self.write(d, "e", [self.row("a", 1.0, gflops=5.0)])
            out = subprocess.run([sys.executable, COMPARE, "--engine", e], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("engine numbers only", out.stdout)
        self.assertNotIn("torch ms", out.stdout)

    def test_pairs_every_hybridize_mode_with_the_peer_case_and_onnxruntime(self):
        with tempfile.TemporaryDirectory() as d:
            e = self.write(d, "e", [self.row(f"mlp_b1_{m}", ms, suite="hybridize")
                                    for m, ms in (("imperative", 0.3), ("hybrid", 0.2), ("static", 0.1))])
            t = self.write(d, "t", [self.row("mlp_b1", 0.1, suite="hybridize")])
            o = self.write(d, "o", [self.row("mlp_b1", 0.05, suite="hybridize")])
            rows = compare.build_rows(compare.read([e], "engine"), compare.read([t], "torch"),
                                      compare.read([o], "onnxruntime"))
        self.assertEqual([r["case"] for r in rows], ["mlp_b1_imperative", "mlp_b1_hybrid", "mlp_b1_static"])
        self.assertEqual([round(r["ratio"], 6) for r in rows], [3.0, 2.0, 1.0])
        self.assertEqual([round(r["ort_ratio"], 6) for r in rows], [6.0, 4.0, 2.0])

    @need_engine
    @need_torch
    def test_every_hybridize_case_has_its_torch_case(self):
        e = engine("hybridize", "--list")
        t = torch_baseline("hybridize", "--list")
        self.assertEqual(e.returncode, 0, e.stderr)
        self.assertEqual(t.returncode, 0, t.stderr)
        peers = {compare.peer_key(("hybridize", c, 1))[1] for c in e.stdout.split()}
        self.assertEqual(peers, set(t.stdout.split()))

    def test_rejects_a_line_that_is_not_a_result(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad")
            with open(bad, "w") as f:
                f.write('{"suite": "gemm"}\n')
            out = subprocess.run([sys.executable, COMPARE, "--engine", bad], capture_output=True, text=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("line 1 is not a benchmark JSON line", out.stderr)


if __name__ == "__main__":
    unittest.main()
