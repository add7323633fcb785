#!/usr/bin/env python3
"""Hostile inputs under a memory limit: runs `quern serve` with the default
models inside a cgroup limited to --limit (2 GiB by default), drops a corpus
of inputs built to exhaust memory or time, and checks that the daemon
survives and that every input gets exactly one result.

The corpus (generated here, nothing committed): a 1 x 40,000,000 grayscale
PNG strip (77 KB), a 1 x 4,000,000 strip, three 8000 x 5000 RGBA 16-bit PNGs,
a 63,200 x 632 RGB panorama (aspect ratio 100), a 2 h WAV whose header lies
about its byte rate, a 60 s one with the same lie, a 100 KB one-word text, a
20,000-character CJK text, a chat request with 5,000 messages, a photo and a
question.

    scripts/attack-memory.py [--limit 2G] [--models DIR] [--keep]

Prints each input's status and error code, the daemon's peak memory (the
cgroup's high-water mark and the process's VmHWM), and exits 1 if the daemon
died or an input has no result. Needs root (it makes a cgroup) and a release
build (.build/release/quern). Not part of CI: a long campaign.
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def size_bytes(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, width, height, bit_depth, color_type, row):
    """Streams `height` copies of `row(y)` (raw bytes, without the filter byte) through zlib."""
    compressor = zlib.compressobj(9)
    parts = []
    for y in range(height):
        parts.append(compressor.compress(b"\x00" + row(y)))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b""))


def write_strip(path, height):
    # 1 pixel wide: each row is one gray byte; compress in large blocks.
    compressor = zlib.compressobj(9)
    block = b"\x00\x80" * (1 << 20)
    parts = []
    left = height
    while left > 0:
        count = min(left, 1 << 20)
        parts.append(compressor.compress(block[: 2 * count]))
        left -= count
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", 1, height, 8, 0, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b""))


def write_wav(path, seconds, lie_factor):
    rate, frames = 16000, int(seconds * 16000)
    data_bytes = frames * 2
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
    # byte_rate claims `lie_factor` times the truth, so byte-rate arithmetic
    # would make the file look that many times shorter.
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2 * lie_factor, 2, 16)
    header += b"data" + struct.pack("<I", data_bytes)
    with open(path, "wb") as out:
        out.write(header)
        chunk = b"\x10\x00\xf0\xff" * (1 << 18)
        left = data_bytes
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))


def make_corpus(folder):
    folder.mkdir(parents=True, exist_ok=True)
    write_strip(folder / "strip-1x40M.png", 40_000_000)
    write_strip(folder / "strip-1x4M.png", 4_000_000)
    for index in range(3):
        write_png(folder / f"rgba16-8000x5000-{index}.png", 8000, 5000, 16, 6,
                  lambda y, i=index: bytes([(y + i) % 256, 0]) * (8000 * 4))
    write_png(folder / "panorama-63200x632.png", 63200, 632, 8, 2, lambda y: bytes([y % 256, 64, 128]) * 63200)
    write_wav(folder / "spoofed-2h.wav", 7200, 16)
    write_wav(folder / "spoofed-60s.wav", 60, 16)
    (folder / "one-word-100k.txt").write_text("a" * 100_000)
    (folder / "cjk-20k.txt").write_text("漢字" * 10_000)
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"} for i in range(5000)]
    (folder / "chat-5000.json").write_text(json.dumps({"task": "chat", "messages": messages, "max_tokens": 4}))
    shutil.copy(ROOT / "Tests/QuernModelTests/Images/Corpus/good/photo-chelsea-rgb.png", folder / "photo.png")
    (folder / "question.txt").write_text("What is the capital of France?\n")
    return sorted(path.name for path in folder.iterdir())


class Cgroup:
    """A memory cgroup (v2 when mounted, else v1) holding the daemon."""

    def __init__(self, limit):
        name = f"quern-attack-{os.getpid()}"
        v2 = pathlib.Path("/sys/fs/cgroup/cgroup.controllers")
        if v2.exists():
            self.path = pathlib.Path("/sys/fs/cgroup") / name
            self.path.mkdir()
            (self.path / "memory.max").write_text(str(limit))
            (self.path / "memory.swap.max").write_text("0") if (self.path / "memory.swap.max").exists() else None
            self.peak_file, self.events = self.path / "memory.peak", self.path / "memory.events"
        else:
            self.path = pathlib.Path("/sys/fs/cgroup/memory") / name
            self.path.mkdir()
            (self.path / "memory.limit_in_bytes").write_text(str(limit))
            self.peak_file, self.events = self.path / "memory.max_usage_in_bytes", self.path / "memory.oom_control"
        self.procs = self.path / "cgroup.procs"

    def peak(self):
        try:
            return int(self.peak_file.read_text().split()[0])
        except (OSError, ValueError):
            return None

    def remove(self):
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", default="2G")
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--binary", default=str(ROOT / ".build/release/quern"))
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for every result")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    limit = size_bytes(args.limit)

    scratch = pathlib.Path(tempfile.mkdtemp(prefix="quern-attack-"))
    inbox, outbox, corpus = scratch / "inbox", scratch / "outbox", scratch / "corpus"
    inbox.mkdir()
    outbox.mkdir()
    print(f"building the corpus in {corpus}", flush=True)
    names = make_corpus(corpus)
    cgroup = Cgroup(limit)
    log = open(scratch / "serve.log", "w")
    command = f'echo $$ > {cgroup.procs} && exec "$0" "$@"'
    daemon = subprocess.Popen(["sh", "-c", command, args.binary, "serve", "--inbox", str(inbox), "--outbox", str(outbox),
                               "--models", args.models], stderr=log, stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while "msg=serving" not in (scratch / "serve.log").read_text():
            if daemon.poll() is not None or time.time() > deadline:
                print((scratch / "serve.log").read_text())
                sys.exit("the daemon did not start")
            time.sleep(0.1)
        rss_peak = 0
        for name in names:
            os.rename(corpus / name, inbox / name)
        started = time.time()
        while True:
            # Results only: the task folders quern makes in the outbox are not.
            done = [p for p in outbox.iterdir() if not p.name.startswith(".") and p.is_file()]
            try:
                status = pathlib.Path(f"/proc/{daemon.pid}/status").read_text()
                rss_peak = max(rss_peak, int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]) * 1024)
            except (OSError, StopIteration):
                pass
            if len(done) >= len(names) or daemon.poll() is not None or time.time() - started > args.timeout:
                break
            time.sleep(0.2)
        alive = daemon.poll() is None
        elapsed = time.time() - started
        results = {}
        for path in outbox.iterdir():
            if path.name.startswith(".") or not path.is_file():
                continue
            document = json.loads(path.read_text())
            results.setdefault(document["input"]["name"], []).append(document)
        print(f"\n{'input':28} {'status':7} code")
        for name in names:
            documents = results.get(name, [])
            if not documents:
                print(f"{name:28} MISSING")
                continue
            document = documents[0]
            error = document.get("error") or {}
            print(f"{name:28} {document['status']:7} {error.get('code', '')}  {error.get('message', '')[:90]}")
        missing = [n for n in names if n not in results]
        duplicated = [n for n, d in results.items() if len(d) > 1]
        if alive:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=60)
        else:
            code = daemon.returncode
        print(f"\nlimit {limit >> 20} MiB; cgroup peak {(cgroup.peak() or 0) >> 20} MiB; daemon VmHWM {rss_peak >> 20} MiB; "
              f"{len(results)}/{len(names)} inputs answered in {elapsed:.1f} s; daemon {'alive, SIGTERM exit ' + str(code) if alive else 'DIED with ' + str(code)}")
        if not alive or missing or duplicated or code != 0:
            print(f"FAILED: missing {missing}, duplicated {duplicated}; log {scratch / 'serve.log'}")
            sys.exit(1)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        cgroup.remove()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"kept {scratch}")


if __name__ == "__main__":
    main()
