#!/usr/bin/env python3
"""Throughput of the shared queue (quern serve --queue), on a throw-away
PostgreSQL cluster on this machine.

    scripts/bench-queue.py --quern .build/release/quern --models models \
        [--jobs 20000] [--images 240] [--rounds 2]

1. Feeding: a --queue-feed-only node turns JOBS dropped files into jobs
   (copy to shared storage, fsync, insert); its rate is reported.
2. The queue itself: 1, 2 and 3 workers on the diagnostic pipeline (no
   model, no delay) drain JOBS waiting jobs; jobs/s from the rows' own
   timestamps (first start to last end), and each worker's claim-statement
   latency (median, p99) from its log at stop.
3. Real models: 1, 2 and 3 workers classify IMAGES PNG files with
   open_nsfw (the worker's threads: 2 for one worker, 1 each for more — the
   machine's 2 cores shared either way).
Best of ROUNDS per configuration. Prints a Markdown table for BENCHMARKS.md.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from pgcluster import Cluster  # noqa: E402


def log(message):
    print(f"[bench-queue {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def serve(args, root, name, url, extra):
    folder = f"{root}/{name}"
    os.makedirs(f"{folder}/inbox", exist_ok=True)
    logfile = open(f"{folder}/serve.log", "w")
    command = [args.quern, "serve", "--queue", url, "--shared", f"{root}/shared", "--inbox", f"{folder}/inbox",
               "--outbox", f"{folder}/outbox", "--models", args.models, "--settle", "0.05"] + extra
    return subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), folder


def stop(process):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def feed(args, root, cluster, batch, files):
    """Drops FILES [(relative name, bytes)] into a feed-only node; returns jobs/s of feeding."""
    before = int(cluster.query("SELECT count(*) FROM quern_jobs")[0][0])
    feeder, folder = serve(args, root, f"feeder-{batch}", cluster.url, ["--queue-feed-only", "--diagnostic-pipeline"])
    time.sleep(1.0)
    staging = f"{folder}/staging"
    os.makedirs(staging, exist_ok=True)
    for name, data in files:
        with open(f"{staging}/{os.path.basename(name)}", "wb") as handle:
            handle.write(data)
    started = time.monotonic()
    for name, _ in files:
        os.makedirs(os.path.dirname(f"{folder}/inbox/{name}"), exist_ok=True)
        os.rename(f"{staging}/{os.path.basename(name)}", f"{folder}/inbox/{name}")
    total = before + len(files)
    wait_until(lambda: int(cluster.query("SELECT count(*) FROM quern_jobs")[0][0]) >= total, 600, "feeding")
    seconds = time.monotonic() - started
    stop(feeder)
    # Fresh planner statistics for the claim query (autovacuum would get there within a minute).
    cluster.query("ANALYZE quern_jobs")
    return len(files) / seconds


def drain(args, root, cluster, label, workers, extra_for):
    """Starts WORKERS workers on the waiting jobs; returns (jobs/s, claim latencies) from the rows' timestamps."""
    first_id = int(cluster.query("SELECT coalesce(min(id), 0) FROM quern_jobs WHERE state = 'queued'")[0][0])
    waiting = int(cluster.query("SELECT count(*) FROM quern_jobs WHERE state = 'queued'")[0][0])
    processes = [serve(args, root, f"{label}-w{index}", cluster.url, extra_for(index)) for index in range(workers)]
    wait_until(lambda: int(cluster.query(f"SELECT count(*) FROM quern_jobs WHERE id >= {first_id} AND state IN ('done', 'failed')")[0][0]) >= waiting,
               1800, f"{label} to drain")
    for process, _ in processes:
        stop(process)
    count, seconds, failed = cluster.query(f"""
        SELECT count(*), extract(epoch FROM max(finished_at) - min(started_at)), count(*) FILTER (WHERE state <> 'done')
        FROM quern_jobs WHERE id >= {first_id}""")[0]
    latencies = []
    for _, folder in processes:
        with open(f"{folder}/serve.log") as handle:
            for line in handle:
                match = re.search(r'msg="claim latency" claims=(\d+) median_ms=([\d.]+) p99_ms=([\d.]+)', line)
                if match:
                    latencies.append((int(match.group(1)), float(match.group(2)), float(match.group(3))))
    if int(failed):
        raise SystemExit(f"{label}: {failed} jobs did not end done")
    return int(count) / float(seconds), latencies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quern", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--images", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", default="1,2,3")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    root = tempfile.mkdtemp(prefix="quern-bench-queue-")
    os.chmod(root, 0o777)
    cluster = Cluster(f"{root}/pg")
    rows = []
    try:
        subprocess.run([args.quern, "queue", "init", "--queue", cluster.url], check=True, capture_output=True)
        batch = 0
        feed_rates = []
        diagnostic = {}
        for round_index in range(args.rounds):
            for workers in counts:
                batch += 1
                files = [(f"t{batch}-{i:06d}.txt", b"queue benchmark input\n") for i in range(args.jobs)]
                feed_rates.append(feed(args, root, cluster, batch, files))
                rate, latencies = drain(args, root, cluster, f"diag{batch}", workers,
                                        lambda _: ["--diagnostic-pipeline", "--threads", "1"])
                log(f"diagnostic, {workers} worker(s): {rate:.0f} jobs/s; claim latency per worker {latencies}")
                best = diagnostic.get(workers)
                if best is None or rate > best[0]:
                    diagnostic[workers] = (rate, latencies)
        images = sorted(f for f in os.listdir(f"{REPO}/Tests/QuernModelTests/Images/Corpus/good") if f.endswith(".png"))
        real = {}
        for round_index in range(args.rounds):
            for workers in counts:
                batch += 1
                files = []
                for i in range(args.images):
                    name = images[i % len(images)]
                    with open(f"{REPO}/Tests/QuernModelTests/Images/Corpus/good/{name}", "rb") as handle:
                        files.append((f"classify/i{batch}-{i:04d}-{name}", handle.read()))
                feed(args, root, cluster, batch, files)
                threads = "2" if workers == 1 else "1"
                rate, _ = drain(args, root, cluster, f"real{batch}", workers,
                                lambda _: ["--threads", threads, "--queue-prefetch", "8", "--preload"])
                log(f"open_nsfw, {workers} worker(s) × {threads} thread(s): {rate:.1f} images/s")
                if rate > real.get(workers, 0):
                    real[workers] = rate
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"Feeding (a --queue-feed-only node: copy to shared storage, fsync, insert): best {max(feed_rates):.0f} jobs/s, "
          f"median {sorted(feed_rates)[len(feed_rates) // 2]:.0f}\n")
    print("| workers | diagnostic jobs/s | vs 1 worker | claim latency median / p99 (ms, per worker) | open_nsfw images/s | vs 1 worker |")
    print("| ---: | ---: | ---: | --- | ---: | ---: |")
    for workers in counts:
        rate, latencies = diagnostic[workers]
        shown = ", ".join(f"{median:.2f} / {p99:.2f}" for _, median, p99 in latencies)
        print(f"| {workers} | {rate:,.0f} | {rate / diagnostic[counts[0]][0]:.2f}× | {shown} | {real[workers]:.1f} | {real[workers] / real[counts[0]]:.2f}× |")


if __name__ == "__main__":
    main()
