#!/usr/bin/env python3
"""Model-only image classification speed: open_nsfw in Quern against ONNX Runtime.

Both run the same fixed input tensors (the deterministic patterns of
tools/goldens/make_resnet_goldens.py: exact small integers, 224x224, BGR minus
means already applied in spirit) at batch 1 and batch 8, with 1 and 2 threads:
no PNG decoding and no preprocessing, only the network. Quern runs
`quern bench resnet` (the model loaded once, one warm-up batch, then batches
for --seconds, the median images/s); ONNX Runtime gets a session per thread
count with intra_op_num_threads = threads and inter_op_num_threads = 1
(checked back from the session options), one warm-up run, then the same
timing loop. The two sides alternate for --rounds rounds and each keeps its
best round, so load from other processes that comes and goes hits both. Prints a table and the Quern / ORT ratio per configuration, and
one JSON line per configuration with --json.

  swift build -c release
  ~/.cache/quern/venv-reference/bin/python scripts/bench-images-model.py [--seconds 5] [--precision bfloat16]

Other builds or benchmarks on the machine distort the numbers: check `uptime`.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PATTERNS = [(3, 5, 101), (7, 1, 37), (1, 11, 211)]


def pattern(a, b, c, size=224):
    y = np.arange(size).reshape(1, size, 1)
    x = np.arange(size).reshape(1, 1, size)
    ch = np.arange(3).reshape(3, 1, 1)
    return (((y * a + x * b + ch * c + (y * x) // 7) % 256) - 128).astype(np.float32)


def batch_input(batch):
    # NCHW as Quern takes it; the model's input:0 is the NHWC transpose.
    nchw = np.stack([pattern(*PATTERNS[i % len(PATTERNS)]) for i in range(batch)])
    return np.ascontiguousarray(nchw.transpose(0, 2, 3, 1))


def ort_rate(model, threads, batch, seconds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    assert session.get_session_options().intra_op_num_threads == threads, "ORT did not keep the thread count"
    feed = {"input:0": batch_input(batch)}
    session.run(None, feed)
    rates = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        session.run(None, feed)
        rates.append(batch / (time.perf_counter() - t0))
    rates.sort()
    return rates[len(rates) // 2], rates[-1]


def quern_rates(binary, model, threads, batches, seconds, precision):
    command = [binary, "bench", "resnet", "--model", model, "--batches", ",".join(map(str, batches)),
               "--thread-counts", str(threads), "--seconds", str(seconds), "--precision", precision]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rates = {}
    for line in output.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            rates[record["batch"]] = (record["images_per_second"], record["best_images_per_second"])
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.path.join(os.environ.get("QUERN_MODELS", os.path.join(ROOT, "models")), "open-nsfw", "open-nsfw.onnx"))
    parser.add_argument("--quern", default=os.path.join(ROOT, ".build", "release", "quern"))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="Quern and ORT alternate this many rounds; each side keeps its best round")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                        help="Quern's precision (ONNX Runtime always runs the float32 model)")
    args = parser.parse_args()
    if not os.path.exists(args.quern):
        sys.exit(f"{args.quern} not found: run `swift build -c release` first (or pass --quern)")
    threads = [int(t) for t in args.threads.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    print(f"open_nsfw model only — Quern in {args.precision}, ONNX Runtime {ort.__version__} in float32; load: {os.getloadavg()[0]:.2f}")
    print("images/s: median run of the best round (best single run); ratio = Quern / ORT of those medians (of the best runs)")
    print(f"{'threads':>7} {'batch':>5} {'quern img/s':>16} {'ORT img/s':>16} {'ratio':>13}")
    for count in threads:
        # Alternating rounds: a neighbour's load that comes and goes hits both sides alike.
        quern, reference = {}, {}
        for _ in range(max(1, args.rounds)):
            for batch, rates in quern_rates(args.quern, args.model, count, batches, args.seconds, args.precision).items():
                old = quern.get(batch, (0, 0))
                quern[batch] = (max(old[0], rates[0]), max(old[1], rates[1]))
            for batch in batches:
                rates, old = ort_rate(args.model, count, batch, args.seconds), reference.get(batch, (0, 0))
                reference[batch] = (max(old[0], rates[0]), max(old[1], rates[1]))
        for batch in batches:
            (q_median, q_best), (o_median, o_best) = quern[batch], reference[batch]
            ratio, best_ratio = q_median / o_median, q_best / o_best
            print(f"{count:>7} {batch:>5} {q_median:>8.1f} ({q_best:>5.1f}) {o_median:>8.1f} ({o_best:>5.1f}) {ratio:>6.2f} ({best_ratio:.2f})")
            if args.json:
                print(json.dumps({"precision": args.precision, "threads": count, "batch": batch, "quern_images_per_second": round(q_median, 2),
                                  "onnxruntime_images_per_second": round(o_median, 2), "ratio": round(ratio, 3),
                                  "quern_best": round(q_best, 2), "onnxruntime_best": round(o_best, 2), "best_ratio": round(best_ratio, 3)}))


if __name__ == "__main__":
    main()
