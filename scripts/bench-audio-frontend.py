#!/usr/bin/env python3
"""Audio front-end speed: Quern's AudioDecoder + WhisperLogMel against
faster-whisper 1.2.1's decode_audio (PyAV/FFmpeg) + FeatureExtractor (NumPy),
side by side in one run on the same files.

Measured (median of 7 after a warm-up): the log-mel of a 30 s signal as
transcribe() computes it (padding=160 → 3001 frames), and decoding to 16 kHz
mono of a 38 s 16 kHz WAV, a 44.1 kHz WAV, a 44.1 kHz stereo WAV, a FLAC and
an MP3 from the speech corpus. Quern's numbers come from `quern bench audio`
of a release build, run on the same files with the same thread count.

  swift build -c release
  ~/.cache/quern/venv-reference/bin/python scripts/bench-audio-frontend.py [--scratch-path .build] [--threads 2]

Other builds on the machine distort the numbers: the load average is printed.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from faster_whisper.audio import decode_audio
from faster_whisper.feature_extractor import FeatureExtractor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ["speech23_long_rp.wav", "fmt_rate_44100.wav", "fmt_stereo_44100.wav", "fmt_flac.flac", "fmt_mp3.mp3"]


def median_ms(function, runs=7):
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[runs // 2]


def quern_timings(scratch, corpus, threads):
    binary = os.path.join(ROOT, scratch, "release", "quern")
    command = [binary, "bench", "audio", "--threads", str(threads)] + [os.path.join(corpus, name) for name in FILES]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    timings = {}
    for line in output.splitlines():
        match = re.search(r"speed (log-mel 30 s|decode (\S+)).*: ([0-9.]+) ms", line)
        if match:
            timings["log-mel" if match.group(2) is None else match.group(2)] = float(match.group(3))
    return timings


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scratch-path", default=".build")
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as corpus:
        subprocess.run(["bash", os.path.join(ROOT, "tools/goldens/make-speech-corpus.sh"), corpus], check=True)
        quern = quern_timings(arguments.scratch_path, corpus, arguments.threads)

        extractor = FeatureExtractor()
        index = np.arange(480_000, dtype=np.float64)
        samples = (np.sin(index * 0.031) * 0.3 + np.sin(index * 0.57) * 0.05).astype(np.float32)
        reference = {"log-mel": median_ms(lambda: extractor(samples))}
        for name in FILES:
            path = os.path.join(corpus, name)
            reference[name] = median_ms(lambda: decode_audio(path, sampling_rate=16000))

    print(f"{'step':32} {'quern ms':>10} {'faster-whisper ms':>18} {'speed-up':>9}")
    for key in ["log-mel"] + FILES:
        ours, theirs = quern.get(key), reference[key]
        label = "log-mel, 30 s (3001 frames)" if key == "log-mel" else f"decode {key}"
        if ours is None:
            print(f"{label:32} {'missing':>10} {theirs:18.2f}")
        else:
            print(f"{label:32} {ours:10.2f} {theirs:18.2f} {theirs / ours:8.2f}x")
    print(f"Quern threads: {arguments.threads}; faster-whisper: NumPy FFT (1 thread), PyAV decode")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
