#!/usr/bin/env python3
"""Measures what the default models cost in resident memory, and that it is
given back when they are unloaded.

Starts `quern serve` on a scratch inbox with the real models (lazy loading,
a short --model-idle-unload), and reads the daemon's RSS (/proc/PID/status):

  1. base: serving, no model loaded yet;
  2. loaded: after one small file of each kind (chat, embed, image, audio),
     so the four default models are loaded; compared with the sum of their
     weight files (the largest file of each model, from its manifest);
  3. unloaded: after the idle time has unloaded every model; compared with base.

Targets (issue 14): loaded RSS <= 1.3 x the weights; unloaded within 50 MB of
base. Prints one JSON document; exit 0 when both targets hold, 1 otherwise.

Usage: scripts/measure-memory.py [--quern .build/release/quern] [--models models] [--idle 5]
Nothing else should run on the machine while it measures (RSS is noisy).
"""
import argparse, json, math, os, shutil, signal, struct, subprocess, sys, tempfile, time, wave, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULTS = ["smollm2-135m-instruct", "all-minilm-l6-v2", "open-nsfw", "whisper-tiny-en"]


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def weights_bytes(models):
    total = 0
    for name in DEFAULTS:
        with open(os.path.join(models, name, ".quern-files.json")) as manifest:
            total += max(entry["bytes"] for entry in json.load(manifest).values())
    return total


def png(width=64, height=64):
    raw = b"".join(b"\x00" + b"".join(bytes(((x * 4) % 256, (y * 4) % 256, 128)) for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def wav(path, seconds=2.0, rate=16000):
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))))


def drop(inbox, name, data):
    staging = os.path.join(inbox, "." + name + ".part")
    with open(staging, "wb") as out:
        out.write(data)
    os.rename(staging, os.path.join(inbox, name))


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(what)


def settled_rss(pid, seconds=2.0):
    """The lowest of a few readings over `seconds` (allocator noise settles)."""
    readings = []
    end = time.time() + seconds
    while time.time() < end:
        readings.append(rss_bytes(pid))
        time.sleep(0.2)
    return min(readings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quern", default=os.path.join(ROOT, ".build/release/quern"))
    parser.add_argument("--models", default=os.path.join(ROOT, "models"))
    parser.add_argument("--idle", type=float, default=5.0, help="--model-idle-unload seconds")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="quern-memory-")
    inbox, outbox = os.path.join(scratch, "inbox"), os.path.join(scratch, "outbox")
    os.makedirs(inbox)
    log_path = os.path.join(scratch, "daemon.log")
    log = open(log_path, "wb")
    daemon = subprocess.Popen([args.quern, "serve", "--inbox", inbox, "--outbox", outbox, "--models", args.models,
                               "--model-idle-unload", str(args.idle), "--settle", "0.2"], stderr=log, stdout=subprocess.DEVNULL)

    def log_text():
        with open(log_path, errors="replace") as text:
            return text.read()
    try:
        wait_for(lambda: "msg=serving" in log_text() or daemon.poll() is not None, 120, "the daemon to serve")
        if daemon.poll() is not None:
            sys.exit(f"quern serve exited: {log_text()}")
        base = settled_rss(daemon.pid)

        drop(inbox, "chat.json", json.dumps({"task": "chat", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}).encode())
        drop(inbox, "embed.json", json.dumps({"task": "embed", "input": "a sentence to embed"}).encode())
        drop(inbox, "image.png", png())
        wav_path = os.path.join(scratch, "speech.wav")
        wav(wav_path)
        with open(wav_path, "rb") as audio:
            drop(inbox, "speech.wav", audio.read())
        # Results only: the outbox also holds the task folders (chat/, embed/, …).
        wait_for(lambda: len([n for n in os.listdir(outbox) if n.endswith(".json") and not n.startswith(".")]) >= 4
                 if os.path.isdir(outbox) else False, 300, "four results")
        loaded = settled_rss(daemon.pid, seconds=1.0)
        load_lines = log_text().count("model loaded")

        wait_for(lambda: log_text().count("model unloaded") >= load_lines, args.idle * 4 + 30, "every model to unload")
        unloaded = settled_rss(daemon.pid)
        weights = weights_bytes(args.models)
        models_rss = loaded - base
        report = {
            "base_rss_mb": round(base / 2**20, 1),
            "loaded_rss_mb": round(loaded / 2**20, 1),
            "unloaded_rss_mb": round(unloaded / 2**20, 1),
            "weights_mb": round(weights / 2**20, 1),
            "loaded_rss_over_weights": round(loaded / weights, 3),
            "loaded_minus_base_over_weights": round(models_rss / weights, 3),
            "unloaded_minus_base_mb": round((unloaded - base) / 2**20, 1),
            "models_loaded": load_lines,
            "target_loaded_rss_le_1_3x_weights": loaded <= 1.3 * weights,
            "target_unloaded_within_50mb_of_base": unloaded - base <= 50 * 2**20,
        }
        print(json.dumps(report, indent=1))
        ok = report["target_loaded_rss_le_1_3x_weights"] and report["target_unloaded_within_50mb_of_base"]
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
