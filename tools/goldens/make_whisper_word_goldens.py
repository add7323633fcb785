#!/usr/bin/env python3
"""Word-timestamp goldens from faster-whisper for Quern's tests.

Usage: make_whisper_word_goldens.py CORPUS_DIR [OUTPUT_JSON]
  CORPUS_DIR  made by tools/goldens/make-speech-corpus.sh (manifest.json + audio);
              the Swift tests generate it into $TMPDIR/quern-speech-corpus/<hash>/
  OUTPUT_JSON defaults to Tests/QuernModelTests/Speech/Goldens/whisper_tiny_en_words.json

Run with ~/.cache/quern/venv-reference/bin/python (faster-whisper 1.2.1,
ctranslate2 4.8.x). The model is models/whisper-tiny-en (CTranslate2).

For every 16 kHz mono 16-bit WAV of the corpus (fed as its exact samples,
int16 / 32768, the numbers Quern's decoder produces) it records
faster-whisper's transcription with word_timestamps=True and otherwise the
options of make_whisper_goldens.py (compute_type="float32", beam_size=1,
temperature=0, condition_on_previous_text=False, no VAD): per segment the
token ids, text, start/end and its words (word, start, end, probability).
"""
import json
import os
import sys

import wave

import ctranslate2
import faster_whisper
import numpy as np
from faster_whisper import WhisperModel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "whisper-tiny-en")


def exact_samples(path):
    """int16 / 32768 of a 16 kHz mono 16-bit PCM WAV, else None (as make_whisper_goldens.py)."""
    try:
        with wave.open(path, "rb") as w:
            if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                return None
            data = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        return None
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def main():
    corpus = sys.argv[1]
    output = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "Tests/QuernModelTests/Speech/Goldens/whisper_tiny_en_words.json")
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    model = WhisperModel(MODEL, device="cpu", compute_type="float32", cpu_threads=2)
    files = []
    for entry in manifest["files"]:
        if entry["expect"] != "decodes":
            continue
        samples = exact_samples(os.path.join(corpus, entry["file"]))
        if samples is None:
            continue
        segments, _ = model.transcribe(samples, language="en", beam_size=1, temperature=0,
                                       condition_on_previous_text=False, vad_filter=False, word_timestamps=True)
        segments = list(segments)
        files.append({
            "file": entry["file"],
            "segments": [{"seek": s.seek, "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text,
                          "tokens": list(s.tokens),
                          "words": [{"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3),
                                     "probability": round(float(w.probability), 6)} for w in s.words]}
                         for s in segments],
        })
        words = sum(len(s.words) for s in segments)
        print(f"{entry['file']}: {len(segments)} segments, {words} words", file=sys.stderr)
    result = {
        "generator": "tools/goldens/make_whisper_word_goldens.py",
        "versions": {"faster_whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__},
        "options": {"compute_type": "float32", "beam_size": 1, "temperature": 0, "condition_on_previous_text": False,
                    "vad_filter": False, "word_timestamps": True},
        "files": files,
    }
    with open(output, "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(files)} files -> {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
