#!/usr/bin/env python3
"""End-to-end image classification speed: PNG file → open_nsfw result.

Quern (`quern bench images`: read the file, libpng decode, Pillow-exact
preprocessing, ResNet, result) against the Python wrapper path (Pillow
`Image.open(...).convert("RGB")`, BILINEAR resize to 256x256, crop [16, 240),
numpy BGR minus means — the open_nsfw wrapper's `fast` mode — then an ONNX
Runtime session), on the same PNG files, with the same thread count.

Fairness: both sides load the model once before timing (Quern's pipeline and
the ORT session are built outside the timed loop) and make one untimed
warm-up pass; every timed pass reads each file from disk. ORT gets
intra_op_num_threads = inter_op_num_threads = threads; Quern gets --threads.
Python runs batch 1 (what the wrapper does per image) and batch 8 (stacked
inputs, one session.run per 8); Quern runs batch 1 and batch 8 (the daemon's
batch). Ratios compare equal batch sizes. The two sides alternate, one timed
pass each per round, and each reports its best round, so a neighbour's load
that comes and goes does not favour either.

  swift build -c release
  ~/.cache/quern/venv-reference/bin/python scripts/bench-images-e2e.py

Other builds or benchmarks on the machine distort the numbers: check `uptime`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import skimage.data
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# Photos at their natural sizes (scikit-image's bundled ones), as people drop
# them: RGB, gray and RGBA, from 300x451 to 1411x1411.
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "logo", "immunohistochemistry",
          "hubble_deep_field", "retina", "colorwheel", "coins", "motorcycle_left"]


def write_corpus(folder):
    paths = []
    for name in PHOTOS:
        try:
            array = getattr(skimage.data, name)()
        except Exception:  # noqa: BLE001 — a photo that needs a download is skipped
            continue
        path = os.path.join(folder, f"{name}.png")
        Image.fromarray(array).save(path, "PNG")
        paths.append(path)
    return paths


def python_pass(session, paths, batch):
    """One pass; without a session, decoding and preprocessing only."""
    means = np.array([104, 117, 123], dtype=np.float32)
    for first in range(0, len(paths), batch):
        inputs = []
        for path in paths[first:first + batch]:
            image = Image.open(path).convert("RGB")
            image = image.resize((256, 256), resample=Image.Resampling.BILINEAR).crop((16, 16, 240, 240))
            inputs.append(np.array(image, dtype=np.float32)[:, :, ::-1] - means)
        if session is not None:
            session.run(["outputs"], {"input:0": np.stack(inputs)})


def python_prepare_rate(paths, repetitions):
    python_pass(None, paths, 1)  # warm-up
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        python_pass(None, paths, 1)
        rates.append(len(paths) / (time.perf_counter() - start))
    return rates


def python_rate(model, paths, threads, batch, repetitions):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    python_pass(session, paths, batch)  # warm-up
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        python_pass(session, paths, batch)
        rates.append(len(paths) / (time.perf_counter() - start))
    return rates


def quern_rate(binary, model, models, paths, threads, batch, repetitions, prepare_only=False):
    command = [binary, "bench", "images", "--model", model, "--models", models, "--threads", str(threads),
               "--batch", str(batch), "--repetitions", str(repetitions)] + (["--prepare-only"] if prepare_only else []) + paths
    report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return report["images_per_second"]["mean"], report["prepare_share"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quern", default=os.path.join(ROOT, ".build/release/quern"))
    parser.add_argument("--models", default=os.environ.get("QUERN_MODELS", os.path.join(ROOT, "models")))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--images", help="a folder of PNG files to use instead of the generated photos")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    model = os.path.join(args.models, "open-nsfw", "open-nsfw.onnx")
    if args.images:
        paths = sorted(os.path.join(args.images, n) for n in os.listdir(args.images) if n.lower().endswith(".png"))
    else:
        paths = write_corpus(tempfile.mkdtemp(prefix="quern-bench-images-"))
    pixels = [Image.open(p).size for p in paths]
    print(f"{len(paths)} PNG files, {min(w * h for w, h in pixels) / 1e6:.2f}–{max(w * h for w, h in pixels) / 1e6:.2f} Mpixel; "
          f"load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for batch in [int(b) for b in args.batches.split(",")]:
            python, quern, share = 0.0, 0.0, 0.0
            for _ in range(args.repetitions):
                python = max(python, max(python_rate(model, paths, threads, batch, 1)))
                rate, round_share = quern_rate(args.quern, model, args.models, paths, threads, batch, 1)
                if rate > quern:
                    quern, share = rate, round_share
            rows.append({"threads": threads, "batch": batch, "quern_images_per_second": quern,
                         "python_images_per_second": python, "ratio": quern / python, "quern_prepare_share": share})
    print("| threads | batch | Quern img/s | Pillow + ONNX Runtime img/s | ratio | Quern decode+preprocess share |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['threads']} | {row['batch']} | {row['quern_images_per_second']:.1f} | "
              f"{row['python_images_per_second']:.1f} | {row['ratio']:.2f}× | {100 * row['quern_prepare_share']:.0f} % |")
    # Decoding and preprocessing alone (no model): Pillow is single-threaded;
    # Quern decodes a batch's files side by side on its compute threads.
    prepare_rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for batch in [int(b) for b in args.batches.split(",")]:
            python_prepare, quern = 0.0, 0.0
            for _ in range(args.repetitions):
                python_prepare = max(python_prepare, max(python_prepare_rate(paths, 1)))
                quern = max(quern, quern_rate(args.quern, model, args.models, paths, threads, batch, 1, prepare_only=True)[0])
            prepare_rows.append({"threads": threads, "batch": batch, "quern_images_per_second": quern,
                                 "python_images_per_second": python_prepare, "ratio": quern / python_prepare})
    print("\nDecode + preprocess only (file → model input):")
    print("| threads | batch | Quern img/s | Pillow + numpy img/s | ratio |")
    print("|---|---|---|---|---|")
    for row in prepare_rows:
        print(f"| {row['threads']} | {row['batch']} | {row['quern_images_per_second']:.1f} | "
              f"{row['python_images_per_second']:.1f} | {row['ratio']:.2f}× |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"files": len(paths), "rows": rows, "prepare_only": prepare_rows}, handle, indent=1)


if __name__ == "__main__":
    main()
