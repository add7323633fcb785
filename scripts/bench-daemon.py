#!/usr/bin/env python3
"""Daemon overhead benchmark: how much time `quern serve` itself adds per file.

Runs the real binary with the diagnostic pipeline (no model: it only counts
bytes), so what is measured is watching, claiming, reading, hashing, kind
detection, the durable result write (3 fsyncs) and archiving.

  latency     files renamed into the inbox one at a time, each waited for:
              time from rename(2) into the inbox to the result's rename into
              the outbox (seen with inotify on the outbox) — median and p99
  burst       N files (default 10,000) staged on the same file system, renamed
              into the inbox as fast as possible: files/s from the first rename
              to the last result, latency percentiles (these include queueing),
              and the daemon's VmRSS / VmHWM sampled every 20 ms

Usage: scripts/bench-daemon.py [--binary PATH] [--files N] [--sequential N] [--dir DIR]
Build first: swift build -c release --product quern
"""
import argparse
import ctypes
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000


class OutboxWatch:
    """Records the monotonic time at which each result name appears in the outbox."""

    def __init__(self, outbox):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(0)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, outbox.encode(), IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify")
        self.seen = {}
        self.overflowed = False
        self.condition = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = os.read(self.fd, 1 << 20)
            except OSError:
                return
            now = time.monotonic()
            offset = 0
            with self.condition:
                while offset + 16 <= len(data):
                    _, mask, _, length = struct.unpack_from("iIII", data, offset)
                    name = data[offset + 16: offset + 16 + length].rstrip(b"\0")
                    offset += 16 + length
                    if mask & IN_Q_OVERFLOW:
                        self.overflowed = True
                    elif name and not name.startswith(b"."):
                        self.seen.setdefault(name, now)
                self.condition.notify_all()

    def wait_for(self, count, timeout):
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.seen) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.condition.wait(left)
        return True


def read_memory(pid):
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value, _ = line.split()
                values[key[:-1]] = int(value)
    return values


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def start_daemon(binary, root, log):
    process = subprocess.Popen(
        [binary, "serve", "--inbox", f"{root}/inbox", "--outbox", f"{root}/outbox", "--diagnostic-pipeline"],
        stderr=log, stdout=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("QUERN_")})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(log.name) as reader:
            if "msg=serving" in reader.read():
                return process
        if process.poll() is not None:
            sys.exit(f"quern exited with {process.returncode}; see {log.name}")
        time.sleep(0.01)
    sys.exit("quern did not start")


def stage(root, prefix, count):
    staging = f"{root}/staging"
    os.makedirs(staging, exist_ok=True)
    names = []
    for index in range(count):
        name = f"{prefix}-{index:05d}.txt"
        with open(f"{staging}/{name}", "w") as handle:
            handle.write(f"benchmark input {index}\n" * 4)
        names.append(name)
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/quern")
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--dir", default=None, help="where to make the scratch tree (default: a temp dir)")
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is not built: swift build -c release --product quern")

    root = tempfile.mkdtemp(prefix="quern-bench-", dir=arguments.dir)
    os.makedirs(f"{root}/inbox")
    os.makedirs(f"{root}/outbox")
    fstype = subprocess.run(["stat", "-f", "-c", "%T", root], capture_output=True, text=True).stdout.strip()
    log = open(f"{root}/daemon.log", "w")
    watch = OutboxWatch(f"{root}/outbox")
    daemon = start_daemon(binary, root, log)
    try:
        print(f"quern: {binary}\nscratch: {root} ({fstype})\ncores: {os.cpu_count()}")

        # One at a time: the daemon's own latency, no queueing.
        names = stage(root, "seq", arguments.sequential)
        latencies = []
        for index, name in enumerate(names):
            dropped = time.monotonic()
            os.rename(f"{root}/staging/{name}", f"{root}/inbox/{name}")
            if not watch.wait_for(index + 1, 30):
                sys.exit(f"no result for {name}")
            latencies.append((watch.seen[(name + ".json").encode()] - dropped) * 1000)
        print(f"\nsequential, {len(latencies)} files: latency rename→result median {percentile(latencies, 0.5):.2f} ms, "
              f"p99 {percentile(latencies, 0.99):.2f} ms, max {max(latencies):.2f} ms")

        # The burst.
        before = len(watch.seen)
        names = stage(root, "burst", arguments.files)
        samples = []
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                samples.append((time.monotonic(), read_memory(daemon.pid)))
                time.sleep(0.02)
        memory_before = read_memory(daemon.pid)
        sampler = threading.Thread(target=sample)
        sampler.start()
        dropped = {}
        first = time.monotonic()
        for name in names:
            dropped[name] = time.monotonic()
            os.rename(f"{root}/staging/{name}", f"{root}/inbox/{name}")
        renamed = time.monotonic()
        complete = watch.wait_for(before + len(names), 600)
        last = max(watch.seen[(name + ".json").encode()] for name in names if (name + ".json").encode() in watch.seen)
        sampling.set()
        sampler.join()
        if not complete:
            sys.exit(f"burst incomplete: {len(watch.seen) - before} of {len(names)} results")
        burst = [(watch.seen[(name + ".json").encode()] - dropped[name]) * 1000 for name in names]
        rss = [values["VmRSS"] for _, values in samples]
        hwm = [values["VmHWM"] for _, values in samples]
        quarter = max(1, len(rss) // 4)
        print(f"\nburst, {len(names)} files: renamed in {renamed - first:.2f} s, all results after {last - first:.2f} s "
              f"→ {len(names) / (last - first):.0f} files/s")
        print(f"burst latency rename→result (includes queueing): median {percentile(burst, 0.5):.1f} ms, "
              f"p99 {percentile(burst, 0.99):.1f} ms")
        print(f"memory: VmRSS before {memory_before['VmRSS'] / 1024:.1f} MiB; during burst min {min(rss) / 1024:.1f}, "
              f"first-quarter max {max(rss[:quarter]) / 1024:.1f}, last-quarter max {max(rss[-quarter:]) / 1024:.1f}, "
              f"max {max(rss) / 1024:.1f} MiB; VmHWM at end {hwm[-1] / 1024:.1f} MiB ({len(rss)} samples)")
        if watch.overflowed:
            print("warning: the benchmark's own inotify queue overflowed; some result times are missing")
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(30)
        print(f"\nSIGTERM → exit {code}")
        log.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
