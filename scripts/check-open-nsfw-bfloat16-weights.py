#!/usr/bin/env python3
"""How far open_nsfw's probabilities move when only its weights are rounded
to bfloat16, measured in ONNX Runtime itself (float32 activations and
arithmetic throughout), over the image corpus the tests use.

This is the floor of any bfloat16 path that stores the weights as bfloat16
(docs/precision.md): Quern's bfloat16 also rounds the activations, so it can
only add to it. Rounding is to nearest, ties to even, on every weight tensor
of rank 2 or more (the convolutions, with batch normalisation folded in, and
the classifier); biases stay float32.

With --per-layer it also rounds one weight tensor at a time and lists the
tensors that move the worst file's probabilities most.

Run from the reference environment:

  ~/.cache/quern/venv-reference/bin/python scripts/check-open-nsfw-bfloat16-weights.py
"""
import argparse
import glob
import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "goldens"))
import make_image_goldens as goldens  # noqa: E402  (the corpus paths and the wrapper's preprocessing)


def bfloat16(values):
    """float32 values rounded to the nearest bfloat16 (ties to even), as float32."""
    bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def session(rounded_names, threads):
    model = onnx.load(goldens.MODEL)
    for initializer in model.graph.initializer:
        if initializer.name in rounded_names:
            initializer.CopyFrom(numpy_helper.from_array(bfloat16(numpy_helper.to_array(initializer)), initializer.name))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(model.SerializeToString(), options)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--per-layer", action="store_true", help="also round one weight tensor at a time")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # Pillow's palette-transparency notice on some corpus files

    model = onnx.load(goldens.MODEL)
    weights = {i.name for i in model.graph.initializer if numpy_helper.to_array(i).ndim >= 2}
    reference, rounded = session(set(), args.threads), session(weights, args.threads)
    name = reference.get_inputs()[0].name
    channels_last = reference.get_inputs()[0].shape[-1] == 3
    files = sorted(glob.glob(os.path.join(goldens.GOOD, "*.png"))) + sorted(glob.glob(os.path.join(goldens.EXTREME, "*.png")))
    inputs, rows = [], []
    for path in files:
        nchw, nhwc = goldens.open_nsfw_fast(path)
        x = nhwc if channels_last else nchw[None]
        p0 = reference.run(None, {name: x})[0][0]
        p1 = rounded.run(None, {name: x})[0][0]
        inputs.append((os.path.basename(path), x, p0))
        rows.append((float(np.abs(p0 - p1).max()), os.path.basename(path), float(p0[1]), bool(np.argmax(p0) == np.argmax(p1))))
    rows.sort(reverse=True)
    deltas = [row[0] for row in rows]
    print(f"{len(files)} files, {len(weights)} weight tensors rounded to bfloat16, ONNX Runtime {ort.__version__}")
    print(f"max |Δp| {deltas[0]:.4f}, median {np.median(deltas):.1e}, files above 2e-3: {sum(d > 2e-3 for d in deltas)}, "
          f"top label kept: {sum(row[3] for row in rows)}/{len(rows)}")
    for delta, file, p, _ in rows[:5]:
        print(f"  {file:<36} |Δp| {delta:.4f}  (float32 p[1] = {p:.4f})")
    if args.per_layer:
        worst = next(entry for entry in inputs if entry[0] == rows[0][1])
        effects = []
        for tensor in sorted(weights):
            p = session({tensor}, args.threads).run(None, {name: worst[1]})[0][0]
            effects.append((float(np.abs(p - worst[2]).max()), tensor))
        effects.sort(reverse=True)
        print(f"one tensor at a time, on {worst[0]}: the sum of the single-tensor effects is {sum(e for e, _ in effects):.4f}")
        for effect, tensor in effects[:12]:
            print(f"  {effect:.4f}  {tensor}")


if __name__ == "__main__":
    main()
