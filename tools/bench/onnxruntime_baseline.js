#!/usr/bin/env node
// ONNX Runtime peer of Engine.Bench's hybridize suite: the inference cases (mlp_b1, mlp_b256, lenet_b1,
// lenet_b256) on the models tools/bench/export_onnx.py writes, timed as Engine.Bench times (warm-up, samples of at
// least 20 ms, the median), printed as the same JSON lines with "peer": "onnxruntime".
//
//   cd tools/bench && npm install                 # onnxruntime-node, pinned in package.json
//   /usr/bin/python3 tools/bench/export_onnx.py   # out/onnx/mlp.onnx, out/onnx/lenet.onnx
//   node tools/bench/onnxruntime_baseline.js [--models DIR] [--threads N] [--repeat R] [--budget SECONDS]
//       [--filter TEXT] [--out FILE]
'use strict';

const fs = require('fs');
const path = require('path');

const WARMUP_CALLS = 2, WARMUP_SECONDS = 1.5, SETTLE_CALLS = 200, SETTLE_SECONDS = 5;
const MIN_SAMPLE_MS = 20, MIN_SAMPLES = 5;

const CASES = [
  ['mlp', 1, [784]], ['mlp', 256, [784]], ['lenet', 1, [1, 28, 28]], ['lenet', 256, [1, 28, 28]],
];

function parseArgs(argv) {
  const args = {
    models: path.join(__dirname, '..', '..', 'out', 'onnx'), threads: 1, repeat: 30, budget: 2, filter: null,
    out: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args)) fail(`unknown option ${argv[i]}; options: --models --threads --repeat --budget --filter --out`);
    const value = argv[++i];
    if (value === undefined) fail(`${argv[i - 1]} needs a value`);
    args[key] = ['threads', 'repeat', 'budget'].includes(key) ? Number(value) : value;
  }
  if (!(args.threads >= 1 && args.repeat >= 1 && args.budget > 0))
    fail('--threads and --repeat need positive integers and --budget a positive number of seconds');
  return args;
}

function fail(message) {
  console.error(`onnxruntime_baseline.js: ${message}`);
  process.exit(2);
}

function sig4(ms) {
  if (ms <= 0) return ms;
  const digits = Math.min(Math.max(3 - Math.floor(Math.log10(ms)), 0), 15);
  return Number(ms.toFixed(digits));
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function measure(body, args) {
  let fastest = Infinity;
  const start = now();
  for (let i = 0; ; i++) {
    const elapsed = (now() - start) / 1000;
    if (i >= WARMUP_CALLS && elapsed >= WARMUP_SECONDS && (i >= SETTLE_CALLS || elapsed >= SETTLE_SECONDS)) break;
    const t0 = now();
    await body();
    fastest = Math.min(fastest, now() - t0);
  }
  const calls = Math.min(Math.max(Math.ceil(MIN_SAMPLE_MS / Math.max(fastest, 1e-6)), 1), 1000000);
  const fewest = Math.min(MIN_SAMPLES, args.repeat);
  const samples = Math.min(Math.max(Math.floor(args.budget * 1000 / (calls * fastest)), fewest), args.repeat);
  const times = [];
  for (let s = 0; s < samples; s++) {
    const t0 = now();
    for (let c = 0; c < calls; c++) await body();
    times.push((now() - t0) / calls);
  }
  times.sort((a, b) => a - b);
  const n = times.length;
  return {
    median_ms: sig4((times[(n - 1) >> 1] + times[n >> 1]) / 2), min_ms: sig4(times[0]),
    q1_ms: sig4(times[(n - 1) >> 2]), q3_ms: sig4(times[(3 * (n - 1)) >> 2]), samples, calls_per_sample: calls,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    fail(`cannot load onnxruntime-node (${e.message}); run "npm install" in tools/bench first`);
  }
  const out = args.out ? fs.openSync(args.out, 'w') : null;
  const sessions = {};
  console.error(`onnxruntime-node ${require('onnxruntime-node/package.json').version}, ${args.threads} threads`);
  for (const [model, batch, sample] of CASES) {
    const name = `${model}_b${batch}`;
    if (args.filter && !name.toLowerCase().includes(args.filter.toLowerCase())) continue;
    const file = path.join(args.models, `${model}.onnx`);
    if (!fs.existsSync(file)) fail(`${file} does not exist; run /usr/bin/python3 tools/bench/export_onnx.py first`);
    sessions[model] ??= await ort.InferenceSession.create(file, {
      intraOpNumThreads: args.threads, interOpNumThreads: 1, executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const session = sessions[model];
    const size = batch * sample.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: size }, (_, i) => Math.sin(i));
    const input = new ort.Tensor('float32', data, [batch, ...sample]);
    const feeds = { [session.inputNames[0]]: input };
    const timing = await measure(() => session.run(feeds), args);
    const row = { suite: 'hybridize', case: name, threads: args.threads, ...timing, peer: 'onnxruntime' };
    const line = JSON.stringify(row);
    console.log(line);
    if (out !== null) fs.writeSync(out, line + '\n');
  }
  if (out !== null) fs.closeSync(out);
}

main().catch(e => fail(e.stack || String(e)));
