#!/usr/bin/env python3
"""Speech transcription speed: Quern against faster-whisper (CTranslate2),
side by side in one run, same files, same thread count (2 by default).

Measured, on the Whisper tiny.en CTranslate2 folder scripts/fetch-models.sh
installs (models/whisper-tiny-en):
  - encoder time for one 30 s window: Quern's encoder against CTranslate2's
    `Whisper.encode` with compute_type float32 (best of several runs, a 30 s
    440 Hz tone's log-mel: the cost does not depend on the sound);
  - whole transcription of the speech corpus (tools/goldens/make-speech-corpus.sh;
    every file it marks decodable): audio decoding + log-mel + encoder +
    greedy decoding, as a real-time factor (seconds of compute per second of
    audio), Quern against faster-whisper float32 and int8 (beam_size=1,
    temperature=0, condition_on_previous_text=False, no VAD); best of
    --repetitions passes after a warm-up;
  - peak resident memory of each engine, each in its own process.

With --word-timestamps both engines also time every word (Quern's
`quern transcribe --bench --word-timestamps`, faster-whisper's
word_timestamps=True): the cost of the second decoder pass and the alignment.

Run from the reference environment on a release build:

  swift build -c release
  ~/.cache/quern/venv-reference/bin/python scripts/bench-whisper.py

Other builds on the same machine distort the numbers: run it when the
machine is quiet (the load average is printed before and after).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "whisper-tiny-en")


def faster_whisper_child(compute_type, threads, repetitions, files, word_timestamps=False):
    """Runs in its own process; prints one JSON object."""
    import ctranslate2
    import numpy as np
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio

    model = WhisperModel(MODEL, device="cpu", compute_type=compute_type, cpu_threads=threads)
    tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(480_000) / 16_000)).astype(np.float32)
    features = model.feature_extractor(tone, padding=0)[:, :3000]
    view = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32))
    encoder = []
    for _ in range(max(repetitions, 5) + 1):
        start = time.perf_counter()
        model.model.encode(view)
        encoder.append(time.perf_counter() - start)
    encoder_best = min(encoder[1:])

    def transcribe_all():
        audio_seconds = 0.0
        for path in files:
            audio = decode_audio(path, sampling_rate=16000)
            segments, info = model.transcribe(audio, language="en", beam_size=1, temperature=0,
                                              condition_on_previous_text=False, vad_filter=False,
                                              word_timestamps=word_timestamps)
            list(segments)
            audio_seconds += info.duration
        return audio_seconds

    times = []
    audio_seconds = 0.0
    for repetition in range(repetitions + 1):
        start = time.perf_counter()
        audio_seconds = transcribe_all()
        if repetition > 0:
            times.append(time.perf_counter() - start)
    best = min(times)
    print(json.dumps({
        "engine": f"faster-whisper {compute_type}" + (" words" if word_timestamps else ""), "threads": threads, "files": len(files),
        "audio_seconds": audio_seconds, "encoder_30s_ms": encoder_best * 1000, "transcribe_seconds": best,
        "real_time_factor": best / audio_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def corpus_files(corpus):
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    return [os.path.join(corpus, entry["file"]) for entry in manifest["files"] if entry["expect"] == "decodes"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--corpus", help="an existing speech corpus folder (default: generate one in a temporary folder)")
    parser.add_argument("--word-timestamps", action="store_true", help="time every word too (both engines)")
    parser.add_argument("--quern", default=os.path.join(ROOT, ".build", "release", "quern"), help="the quern binary")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"], help="Quern's precision (docs/precision.md)")
    parser.add_argument("--child", nargs=1, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        faster_whisper_child(args.child[0], args.threads, args.repetitions, args.files, args.word_timestamps)
        return

    temporary = None
    corpus = args.corpus
    if corpus is None:
        temporary = tempfile.TemporaryDirectory()
        corpus = os.path.join(temporary.name, "corpus")
        subprocess.run(["bash", os.path.join(ROOT, "tools/goldens/make-speech-corpus.sh"), corpus], check=True)
    files = corpus_files(corpus)
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    results = []
    quern = subprocess.run([args.quern, "transcribe", "--bench", "--threads", str(args.threads), "--repetitions",
                            str(args.repetitions), "--models", os.path.join(ROOT, "models"), "--precision", args.precision]
                           + (["--word-timestamps"] if args.word_timestamps else []) + files,
                           check=True, capture_output=True, text=True)
    results.append(json.loads(quern.stdout.strip().splitlines()[-1]))
    results[0]["engine"] += f" {args.precision}"
    for compute_type in ("float32", "int8"):
        child = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", compute_type, "--threads", str(args.threads),
                                "--repetitions", str(args.repetitions)] + (["--word-timestamps"] if args.word_timestamps else []) + files, check=True, capture_output=True, text=True)
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)

    audio = results[0]["audio_seconds"]
    print(f"{len(files)} files, {audio:.1f} s of audio, {args.threads} threads")
    print(f"{'engine':<24} {'encoder 30 s (ms)':>18} {'transcribe (s)':>15} {'RTF':>8} {'peak RSS (MB)':>14}")
    for r in results:
        print(f"{r['engine']:<24} {r['encoder_30s_ms']:>18.1f} {r['transcribe_seconds']:>15.2f} {r['real_time_factor']:>8.4f} {r['peak_rss_mb']:>14.0f}")
    quern_result, f32, i8 = results
    best_reference = min(f32, i8, key=lambda r: r["real_time_factor"])
    print(f"encoder: quern / CTranslate2 float32 = {quern_result['encoder_30s_ms'] / f32['encoder_30s_ms']:.3f} (≤ 1 is the goal)")
    print(f"transcription RTF: quern / {best_reference['engine']} (the faster) = "
          f"{quern_result['real_time_factor'] / best_reference['real_time_factor']:.3f} (≤ 1 is the goal)")
    print(json.dumps({"results": results}))
    if temporary:
        temporary.cleanup()


if __name__ == "__main__":
    main()
