#!/usr/bin/env python3
"""Writes the audio front-end goldens Quern's tests compare against.

    ~/.cache/quern/venv-reference/bin/python tools/goldens/make_audio_goldens.py

1. Runs tools/goldens/make-speech-corpus.sh into a temporary folder and, for
   every file, records what faster-whisper 1.2.1 produces: `decode_audio`
   (PyAV/FFmpeg: decode, downmix, resample to 16 kHz, quantise to int16) and
   its `FeatureExtractor` called as `transcribe()` calls it (padding=160).
   Stored per file: sample count and statistics, every 256th sample (format variants and broken files only), and for
   the log-mel its shape, global statistics, per-band means over all frames
   and three whole frames (first, middle, last content frame) — enough to
   check 2e-4 agreement without committing the full arrays.
2. Resampler reference: a fixed test signal resampled by soxr (VHQ) from
   8000, 22050, 44100 and 48000 Hz to 16000 Hz; every 8th output sample of
   the interior (edges excluded: resamplers treat the ends differently).

Output: Tests/QuernMediaTests/Goldens/audio-goldens.json (small).
"""

import hashlib
import json
import math
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import soxr
import faster_whisper
from faster_whisper.audio import decode_audio
from faster_whisper.feature_extractor import FeatureExtractor

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools/goldens/make-speech-corpus.sh"
OUT = REPO / "Tests/QuernMediaTests/Goldens/audio-goldens.json"
SAMPLE_STRIDE = 256
# Sample-level data only where decoding is more than pcm / 32768 (format
# variants, broken files); plain 16 kHz 16-bit files are checked by statistics.
SAMPLED_KINDS = {"format", "truncated"}


def f32(values):
    """Shortest decimals that round-trip to the same float32."""
    return [float(np.format_float_positional(np.float32(v), unique=True, trim="-")) for v in values]


def signal_stats(audio):
    audio = audio.astype(np.float64)
    return {
        "count": int(audio.size),
        "sum": float(audio.sum()),
        "sum_sq": float((audio * audio).sum()),
        "max_abs": float(np.abs(audio).max()) if audio.size else 0.0,
    }


def mel_summary(features):
    frames = features.shape[1]
    content = frames - 1
    picks = sorted({0, content // 2, max(0, content - 1)})
    return {
        "shape": list(features.shape),
        "content_frames": content,
        "max": float(features.max()),
        "min": float(features.min()),
        "mean": float(features.astype(np.float64).mean()),
        "band_means": f32(features.astype(np.float64).mean(axis=1)),
        "frames": {str(i): f32(features[:, i]) for i in picks},
    }


def test_signal(rate, seconds=0.5):
    """The resampler test signal; Quern's test builds the same in Double."""
    t = np.arange(int(rate * seconds), dtype=np.float64) / rate
    x = (0.3 * np.sin(2 * np.pi * 440 * t)
         + 0.2 * np.sin(2 * np.pi * 3100 * t + 0.5)
         + 0.1 * np.sin(2 * np.pi * 6900 * t + 1.0))
    if rate > 16000:
        # Above the new Nyquist: must be filtered out, not folded back.
        x += 0.1 * np.sin(2 * np.pi * min(11000, 0.45 * rate) * t + 2.0)
    return x.astype(np.float32)


def main():
    extractor = FeatureExtractor()
    golden = {
        "generator": "tools/goldens/make_audio_goldens.py",
        "faster_whisper": faster_whisper.__version__,
        "corpus_script_sha256": hashlib.sha256(SCRIPT.read_bytes()).hexdigest(),
        "sample_stride": SAMPLE_STRIDE,
        "files": {},
        "resampler": {"reference": f"soxr {soxr.__version__} VHQ", "signal_seconds": 0.5, "stride": 8, "rates": {}},
    }
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["bash", str(SCRIPT), folder], check=True)
        manifest = json.loads((pathlib.Path(folder) / "manifest.json").read_text())
        for entry in manifest["files"]:
            path = pathlib.Path(folder) / entry["file"]
            record = {"kind": entry["kind"]}
            try:
                audio = decode_audio(str(path), sampling_rate=16000)
            except Exception as error:  # PyAV refuses the file
                record["error"] = f"{type(error).__name__}: {error}"
                golden["files"][entry["file"]] = record
                continue
            record["audio"] = signal_stats(audio)
            if entry["kind"] in SAMPLED_KINDS:
                record["samples_strided"] = f32(audio[::SAMPLE_STRIDE])
            if audio.size:
                features = extractor(audio)  # padding=160, as transcribe() calls it
                record["mel"] = mel_summary(features)
            golden["files"][entry["file"]] = record
            print(entry["file"], audio.size, file=sys.stderr)

    for rate in (8000, 22050, 44100, 48000):
        x = test_signal(rate)
        y = soxr.resample(x, rate, 16000, quality="VHQ").astype(np.float32)
        begin, end = 800, len(y) - 800
        golden["resampler"]["rates"][str(rate)] = {
            "input_count": int(x.size),
            "output_count": int(y.size),
            "begin": begin,
            "values": f32(y[begin:end:8]),
        }

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
