#!/usr/bin/env python3
"""Whisper tiny.en goldens from faster-whisper / CTranslate2 for Quern's tests.

Usage: make_whisper_goldens.py CORPUS_DIR [OUTPUT_JSON]
  CORPUS_DIR  made by tools/goldens/make-speech-corpus.sh (manifest.json + audio)
  OUTPUT_JSON defaults to Tests/QuernModelTests/Speech/Goldens/whisper_tiny_en.json

Run with ~/.cache/quern/venv-reference/bin/python (faster-whisper 1.2.1,
ctranslate2 4.8.5, jiwer). The model is models/whisper-tiny-en (CTranslate2).

For every decodable file of the corpus it records faster-whisper's
transcription with compute_type="float32", beam_size=1, temperature=0,
condition_on_previous_text=False, no VAD: per segment the token ids, text,
start/end, avg_logprob, no_speech_prob and compression_ratio. 16 kHz mono
16-bit WAVs are passed as their exact samples (int16 / 32768, the same
numbers Quern's decoder produces); other files go through faster-whisper's
own decode_audio (PyAV). For a few files it also records CTranslate2's
encoder output for the first 30 s window (`Whisper.encode` of the
FeatureExtractor's features padded to 3000 frames): summaries and a few full
frames. Word error rates against the spoken texts use a simple normaliser
(lower case, punctuation removed, numbers spelled as the corpus speaks them
are left as the model writes them) shared with the Swift test.
"""
import json
import os
import re
import sys
import wave

import ctranslate2
import faster_whisper
import jiwer
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio, pad_or_trim

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "whisper-tiny-en")
ENCODER_FILES = ["speech01_us_short.wav", "speech22_us_paragraph.wav", "silence_5s.wav", "tone_440hz_4s.wav"]


def normalise(text):
    """Lower case, apostrophes kept, every other non-alphanumeric a space."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def exact_samples(path):
    """int16 / 32768 of a 16 kHz mono 16-bit PCM WAV, else None."""
    try:
        with wave.open(path, "rb") as w:
            if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                return None
            data = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        return None
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def summary(array):
    a = np.asarray(array, dtype=np.float64)
    return {"shape": list(a.shape), "sum": float(a.sum()), "sum_sq": float((a * a).sum()),
            "mean_abs": float(np.abs(a).mean()), "max_abs": float(np.abs(a).max())}


def main():
    corpus = sys.argv[1]
    output = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "Tests/QuernModelTests/Speech/Goldens/whisper_tiny_en.json")
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    model = WhisperModel(MODEL, device="cpu", compute_type="float32", cpu_threads=2)
    ct2 = ctranslate2.models.Whisper(MODEL, device="cpu", compute_type="float32", intra_threads=2)
    files = []
    references, hypotheses = [], []
    for entry in manifest["files"]:
        if entry["expect"] != "decodes":
            continue
        path = os.path.join(corpus, entry["file"])
        samples = exact_samples(path)
        exact = samples is not None
        if samples is None:
            samples = decode_audio(path, sampling_rate=16000)
        segments, info = model.transcribe(samples, language="en", beam_size=1, temperature=0,
                                          condition_on_previous_text=False, vad_filter=False)
        segments = list(segments)
        text = "".join(s.text for s in segments).strip()
        record = {
            "file": entry["file"], "kind": entry["kind"], "exact_16k": exact,
            "samples": int(len(samples)), "duration": float(info.duration), "text": text,
            "segments": [{"seek": s.seek, "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text,
                          "tokens": list(s.tokens), "avg_logprob": s.avg_logprob,
                          "no_speech_prob": s.no_speech_prob, "compression_ratio": s.compression_ratio}
                         for s in segments],
        }
        if "text" in entry:
            record["spoken"] = entry["text"]
            if entry["text"]:
                record["wer"] = jiwer.wer(normalise(entry["text"]), normalise(text) or "<empty>")
                references.append(normalise(entry["text"]))
                hypotheses.append(normalise(text) or "<empty>")
        if entry["file"] in ENCODER_FILES:
            features = model.feature_extractor(samples)
            window = pad_or_trim(features[:, :-1][:, :3000] if features.shape[1] > 3000 else features[:, :-1])
            encoded = np.array(ct2.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(window[None], dtype=np.float32))))
            encoded = encoded[0]
            record["encoder"] = {"summary": summary(encoded), "frames": {str(i): encoded[i].tolist() for i in (0, 1, 100, 749, 1499)},
                                 "features_summary": summary(window)}
        files.append(record)
        print(f"{entry['file']}: {text[:70]!r}", file=sys.stderr)
    result = {
        "generator": "tools/goldens/make_whisper_goldens.py",
        "versions": {"faster_whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__, "jiwer": jiwer.__version__ if hasattr(jiwer, "__version__") else "?"},
        "options": {"compute_type": "float32", "beam_size": 1, "temperature": 0, "condition_on_previous_text": False, "vad_filter": False},
        "corpus_wer": jiwer.wer(references, hypotheses),
        "files": files,
    }
    with open(output, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"corpus WER {result['corpus_wer']:.4f}, {len(files)} files -> {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
