#!/usr/bin/env python3
"""What SHA-256 costs Quern at start-up and at intake, through the real binary.

Every model's weights are hashed when Quern starts (the results name the
weights by checksum) and every input is hashed when it is read. This runs
`quern run` — the same start-up and intake as `quern serve` — on:

  start-up   one small unrecognised file: wall-clock time from exec to exit,
             which is loading every default model (hashing included) plus a
             refusal result; the weights' total size is printed beside it
  intake     one 255 MiB file of random bytes (just under the 256 MiB input
             limit): the result's `timings.decode_ms`, which is reading
             nothing more than hashing and kind detection of bytes in memory

Give --baseline with an older binary to measure both in one run, alternating
the binaries so neither gets a warmer cache.

Usage: scripts/bench-hashing.py [--binary PATH] [--baseline PATH] [--models DIR] [--runs N]
Build first: swift build -c release --product quern
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, models, path, threads):
    env = dict(os.environ, QUERN_THREADS=str(threads))
    start = time.monotonic()
    completed = subprocess.run([binary, "run", "--models", models, path], env=env,
                               capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        sys.exit(f"{binary} run {path} failed ({completed.returncode}): {completed.stderr[-2000:]}")
    document = json.loads(completed.stdout.splitlines()[0])
    return wall, document


def weights_bytes(models):
    total = 0
    for directory, _, files in os.walk(models, followlinks=True):
        for name in files:
            if name.endswith((".gguf", ".safetensors", ".onnx", ".bin")):
                total += os.path.getsize(os.path.join(directory, name))
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(root, ".build/release/quern"))
    parser.add_argument("--baseline", help="an older quern binary to compare against")
    parser.add_argument("--models", default=os.environ.get("QUERN_MODELS", os.path.join(root, "models")))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    binaries = [("quern", args.binary)] + ([("baseline", args.baseline)] if args.baseline else [])
    with tempfile.TemporaryDirectory(prefix="quern-bench-hashing-") as scratch:
        small = os.path.join(scratch, "small.bin")
        with open(small, "wb") as f:
            f.write(b"\x00\x01\x02\x03 not a known kind")
        large = os.path.join(scratch, "large.bin")
        with open(large, "wb") as f:
            # An all-binary prefix makes kind detection give up at once, so the
            # decode time is the hash.
            f.write(b"\x00" * 16 + os.urandom(255 * 1024 * 1024 - 16))
        size = os.path.getsize(large)

        startup = {label: [] for label, _ in binaries}
        intake = {label: [] for label, _ in binaries}
        for _ in range(args.runs):
            for label, binary in binaries:
                wall, _ = run(binary, args.models, small, args.threads)
                startup[label].append(wall)
                _, document = run(binary, args.models, large, args.threads)
                intake[label].append(document["timings"]["decode_ms"] / 1000)

    print(f"threads {args.threads}, {args.runs} runs each, medians; weights hashed at start-up: "
          f"{weights_bytes(args.models) / 2**20:.0f} MiB; intake file {size / 2**20:.0f} MiB")
    print(f"{'binary':<10} {'start-up s':>11} {'intake s':>9} {'intake MB/s':>12}")
    for label, _ in binaries:
        seconds = statistics.median(intake[label])
        print(f"{label:<10} {statistics.median(startup[label]):>11.2f} {seconds:>9.3f} {size / seconds / 1e6:>12.0f}")
    if args.baseline:
        for what, table in (("start-up", startup), ("intake", intake)):
            ratio = statistics.median(table["baseline"]) / statistics.median(table["quern"])
            print(f"{what}: quern is {ratio:.2f}x the baseline's speed")


if __name__ == "__main__":
    main()
