#!/usr/bin/env python3
"""Whisper tiny.en in bfloat16: how its transcripts compare with float32.

Transcribes every decodable file of the speech corpus
(tools/goldens/make-speech-corpus.sh) with `quern transcribe` in float32
and in bfloat16, and with faster-whisper float32 (beam_size=1,
temperature=0, condition_on_previous_text=False, no VAD: the settings
Quern's decoder follows), then reports:
  - the share of files whose bfloat16 transcript is identical to
    faster-whisper float32's (and Quern float32's share, for scale);
  - the word error rate of each against the corpus's own texts (lower case,
    punctuation removed), pooled over the corpus.

  swift build -c release
  ~/.cache/quern/venv-reference/bin/python scripts/check-whisper-precision.py [--corpus DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "whisper-tiny-en")


def words(text):
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def edit_distance(a, b):
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def word_error_rate(pairs):
    errors = sum(edit_distance(words(reference), words(hypothesis)) for reference, hypothesis in pairs)
    return errors / max(1, sum(len(words(reference)) for reference, _ in pairs))


def quern_transcripts(binary, files, precision, threads):
    output = subprocess.run([binary, "transcribe", "--format", "json", "--threads", str(threads), "--precision", precision,
                             "--models", os.path.join(ROOT, "models")] + files, check=True, capture_output=True, text=True).stdout
    transcripts = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(transcripts) == len(files), f"quern printed {len(transcripts)} transcripts for {len(files)} files"
    return [record["result"]["text"].strip() for record in transcripts]


def faster_whisper_transcripts(files, threads):
    from faster_whisper import WhisperModel
    model = WhisperModel(MODEL, device="cpu", compute_type="float32", cpu_threads=threads)
    texts = []
    for path in files:
        segments, _ = model.transcribe(path, language="en", beam_size=1, temperature=0, condition_on_previous_text=False,
                                       vad_filter=False)
        texts.append("".join(segment.text for segment in segments).strip())
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help="an existing speech corpus folder (default: generate one in a temporary folder)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quern", default=os.path.join(ROOT, ".build", "release", "quern"))
    parser.add_argument("--json", action="store_true", help="also print the per-file transcripts as JSON")
    args = parser.parse_args()
    temporary = None
    corpus = args.corpus
    if corpus is None:
        temporary = tempfile.TemporaryDirectory()
        corpus = os.path.join(temporary.name, "corpus")
        subprocess.run(["bash", os.path.join(ROOT, "tools/goldens/make-speech-corpus.sh"), corpus], check=True)
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    entries = [entry for entry in manifest["files"] if entry["expect"] == "decodes"]
    files = [os.path.join(corpus, entry["file"]) for entry in entries]
    # Files with speech have a reference text; the others (tone, noise, silence) count for identity only.
    references = [entry.get("text") for entry in entries]

    float32 = quern_transcripts(args.quern, files, "float32", args.threads)
    bfloat16 = quern_transcripts(args.quern, files, "bfloat16", args.threads)
    reference = faster_whisper_transcripts(files, args.threads)

    def identical(texts):
        return sum(a == b for a, b in zip(texts, reference))

    def wer(texts):
        return word_error_rate([(r, t) for r, t in zip(references, texts) if r])

    spoken = sum(1 for r in references if r)
    print(f"{len(files)} files ({spoken} with a reference text), {args.threads} threads")
    print(f"{'engine':<28} {'identical to faster-whisper float32':>36} {'WER':>8}")
    print(f"{'faster-whisper float32':<28} {'':>36} {wer(reference):>8.4f}")
    print(f"{'quern float32':<28} {identical(float32):>20}/{len(files)} ({identical(float32) / len(files):6.1%}) {wer(float32):>8.4f}")
    print(f"{'quern bfloat16':<28} {identical(bfloat16):>20}/{len(files)} ({identical(bfloat16) / len(files):6.1%}) {wer(bfloat16):>8.4f}")
    print(f"bfloat16 WER − quern float32 WER = {wer(bfloat16) - wer(float32):+.4f}; − faster-whisper float32 WER = {wer(bfloat16) - wer(reference):+.4f}")
    for path, a, b, r in zip(files, bfloat16, float32, reference):
        if a != r:
            print(f"  differs: {os.path.basename(path)}\n    bfloat16: {a}\n    float32:  {b}\n    faster-whisper: {r}", file=sys.stderr)
    if args.json:
        print(json.dumps([{"file": os.path.basename(p), "bfloat16": a, "float32": b, "faster_whisper_float32": r}
                          for p, a, b, r in zip(files, bfloat16, float32, reference)]))
    if temporary:
        temporary.cleanup()


if __name__ == "__main__":
    main()
