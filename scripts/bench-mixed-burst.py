#!/usr/bin/env python3
"""Mixed-burst benchmark: does one long recording hold up everything else?

Drops, all at once, into a scratch inbox of a real `quern serve` on the
default models:
  - one long recording (default 5 minutes: speech from the test corpus
    concatenated into one 16 kHz WAV),
  - 20 chat requests (max_tokens 32),
  - 100 PNG images (224 x 224, generated),
  - 100 embed requests,
then waits for every result and reports, per kind, the median and the maximum
queue wait (the result's timings.queued_ms: from when Quern saw the file to
the start of its work), the median time to the result, how many finished
while the recording was still running, and the total time of the burst.

Usage: scripts/bench-mixed-burst.py [--binary PATH] [--models DIR] [--audio-seconds S]
                                    [--chats N] [--images N] [--embeds N] [--speech-dir DIR] [--json FILE]
Build first: swift build -c release --product quern; fetch the models: scripts/fetch-models.sh.
The speech comes from --speech-dir (16 kHz mono 16-bit WAV files), else the
corpus the tests generate (/tmp/quern-speech-corpus/*), else it is generated
with tools/goldens/make-speech-corpus.sh (espeak-ng, sox).
"""
import argparse
import glob
import json
import os
import random
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import wave
import zlib

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def speech_folder(explicit):
    if explicit:
        return explicit
    found = sorted(glob.glob("/tmp/quern-speech-corpus/*/manifest.json"))
    if found:
        return os.path.dirname(found[-1])
    folder = tempfile.mkdtemp(prefix="quern-burst-speech-")
    script = os.path.join(REPOSITORY, "tools/goldens/make-speech-corpus.sh")
    subprocess.run(["bash", script, folder + "/corpus"], check=True, stdout=subprocess.DEVNULL)
    return folder + "/corpus"


def long_recording(folder, seconds, path):
    """Concatenates the corpus's 16 kHz mono 16-bit speech files up to `seconds`."""
    clips = []
    for name in sorted(os.listdir(folder)):
        if not (name.startswith("speech") and name.endswith(".wav")):
            continue
        with wave.open(os.path.join(folder, name), "rb") as clip:
            if clip.getframerate() == 16000 and clip.getnchannels() == 1 and clip.getsampwidth() == 2:
                clips.append(clip.readframes(clip.getnframes()))
    if not clips:
        sys.exit(f"no 16 kHz mono 16-bit speech files in {folder}")
    wanted = int(seconds * 16000) * 2
    frames = bytearray()
    while len(frames) < wanted:
        for clip in clips:
            frames += clip
            frames += b"\0\0" * 8000  # half a second of silence between clips
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(bytes(frames[:wanted]))


def png(width, height, seed):
    """An 8-bit RGB PNG with smooth colour fields and some noise."""
    rng = random.Random(seed)
    a, b, c = rng.random() * 6, rng.random() * 6, rng.random() * 6
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((int(128 + 100 * ((x * a + y * b) % 7 / 7 - 0.5)) + rng.randrange(20)) & 255,
                           (int(x * c + y) + rng.randrange(20)) & 255,
                           (int(y * a) + rng.randrange(20)) & 255))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b"")


QUESTIONS = ["What is the capital of France?", "Name three colours.", "Why is the sky blue?", "Write a haiku about rain.",
             "What is two plus two?", "Give me a tip for sleeping well.", "What do bees make?", "Say hello in Spanish."]


def stage(folder, args):
    """Writes every input to `folder`; returns [(name, kind)], the recording first."""
    files = [("recording.wav", "audio")]
    long_recording(speech_folder(args.speech_dir), args.audio_seconds, os.path.join(folder, "recording.wav"))
    for i in range(args.chats):
        request = {"task": "chat", "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}], "max_tokens": 32}
        files.append((f"chat-{i:03d}.json", "chat"))
        with open(os.path.join(folder, files[-1][0]), "w") as out:
            json.dump(request, out)
    for i in range(args.images):
        files.append((f"image-{i:03d}.png", "image"))
        with open(os.path.join(folder, files[-1][0]), "wb") as out:
            out.write(png(224, 224, i))
    for i in range(args.embeds):
        files.append((f"embed-{i:03d}.json", "embed"))
        with open(os.path.join(folder, files[-1][0]), "w") as out:
            json.dump({"task": "embed", "input": f"Sentence number {i} about {QUESTIONS[i % len(QUESTIONS)].lower()}"}, out)
    # Interleave the short kinds, as a real mixed burst arrives; the recording stays first.
    rest = files[1:]
    random.Random(7).shuffle(rest)
    return files[:1] + rest


def wait_for_line(log_path, needle, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_path, errors="replace") as log:
            if needle in log.read():
                return True
        if process.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def percentile_summary(values):
    if not values:
        return {"count": 0}
    return {"count": len(values), "median": statistics.median(values), "max": max(values)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(REPOSITORY, ".build/release/quern"))
    parser.add_argument("--models", default=os.path.join(REPOSITORY, "models"))
    parser.add_argument("--audio-seconds", type=float, default=300)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--embeds", type=int, default=100)
    parser.add_argument("--speech-dir")
    parser.add_argument("--dir", help="scratch folder (default: a new temporary one, removed at the end)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for every result")
    parser.add_argument("--json", help="also write the report as JSON to this file")
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} is not built: swift build -c release --product quern")

    root = args.dir or tempfile.mkdtemp(prefix="quern-burst-")
    inbox, outbox, staging = (os.path.join(root, n) for n in ("inbox", "outbox", "staging"))
    for folder in (inbox, outbox, staging):
        os.makedirs(folder, exist_ok=True)
    print("staging the inputs…", file=sys.stderr)
    files = stage(staging, args)
    kinds = dict(files)

    log_path = os.path.join(root, "daemon.log")
    log = open(log_path, "w")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QUERN_")}
    daemon = subprocess.Popen([args.binary, "serve", "--inbox", inbox, "--outbox", outbox, "--models", args.models,
                               "--timeout", "3600", "--settle", "0.2"], stderr=log, stdout=subprocess.DEVNULL, env=environment)
    try:
        if not wait_for_line(log_path, "msg=serving", daemon, 300):
            sys.exit(f"quern serve did not start; see {log_path}")
        print(f"dropping {len(files)} files…", file=sys.stderr)
        start = time.monotonic()
        for name, _ in files:
            os.rename(os.path.join(staging, name), os.path.join(inbox, name))
        finished = {}
        deadline = start + args.timeout
        while len(finished) < len(files) and time.monotonic() < deadline:
            for entry in os.listdir(outbox):
                if entry.startswith(".") or not entry.endswith(".json"):
                    continue
                name = entry[:-5]
                if name in kinds and name not in finished:
                    finished[name] = time.monotonic() - start
            time.sleep(0.05)
        total = time.monotonic() - start
        if len(finished) < len(files):
            print(f"only {len(finished)} of {len(files)} results after {args.timeout:.0f} s", file=sys.stderr)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()

    recording_done = finished.get("recording.wav")
    report = {"files": len(files), "results": len(finished), "total_seconds": total,
              "recording_seconds": recording_done, "audio_seconds": args.audio_seconds, "kinds": {}}
    for kind in ("audio", "chat", "image", "embed"):
        waits, latencies, statuses, during = [], [], {}, 0
        for name, _ in (f for f in files if f[1] == kind):
            path = os.path.join(outbox, name + ".json")
            if not os.path.exists(path):
                continue
            with open(path) as handle:
                document = json.load(handle)
            statuses[document["status"]] = statuses.get(document["status"], 0) + 1
            waits.append(document["timings"]["queued_ms"] / 1000)
            latencies.append(finished.get(name, total))
            if recording_done is None or finished.get(name, total) < recording_done:
                during += 1
        report["kinds"][kind] = {"queue_wait_s": percentile_summary(waits), "result_after_s": percentile_summary(latencies),
                                 "statuses": statuses, "finished_while_recording_ran": during if kind != "audio" else None}

    print(f"\nmixed burst: {len(files)} files, {report['results']} results in {total:.1f} s "
          f"(the {args.audio_seconds:.0f} s recording's result after {recording_done or float('nan'):.1f} s)\n")
    print("| kind | files | queue wait median (s) | queue wait max (s) | result after, median (s) | done while the recording ran | statuses |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind, row in report["kinds"].items():
        wait, after = row["queue_wait_s"], row["result_after_s"]
        if not wait["count"]:
            print(f"| {kind} | 0 | – | – | – | – | – |")
            continue
        during = "–" if row["finished_while_recording_ran"] is None else str(row["finished_while_recording_ran"])
        print(f"| {kind} | {wait['count']} | {wait['median']:.2f} | {wait['max']:.2f} | {after['median']:.2f} | {during} | "
              f"{', '.join(f'{k} {v}' for k, v in sorted(row['statuses'].items()))} |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if report["results"] == len(files) else 1


if __name__ == "__main__":
    sys.exit(main())
