#!/usr/bin/env python3
"""Several `quern serve --queue` workers on one PostgreSQL queue, killed at
random, with PostgreSQL restarted mid-run: every input dropped in any node's
inbox must end with exactly one result in the shared outbox — none lost,
none duplicated — and the attempts the kills cost must be recorded.

    scripts/check-queue-chaos.py --quern .build/release/quern --models models \
        [--diagnostic 2000] [--real 50] [--kills 20] [--workers 3] [--keep DIR]

Phase 1: the workers run the diagnostic pipeline (no model); DIAGNOSTIC
text files are dropped across the nodes' inboxes while workers are killed
with SIGKILL and restarted, and PostgreSQL is restarted once.
Phase 2: the workers run the default models; REAL inputs (sentences to
embed, PNG images to classify, spoken digits to transcribe, chat requests)
are dropped while the remaining kills happen.
Only the standard library and Debian's psql are used. Prints a JSON report
and "all checks passed", or what failed (exit 1).
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from pgcluster import Cluster  # noqa: E402


def log(message):
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Worker:
    def __init__(self, index, args, root, url, diagnostic):
        self.index = index
        self.args = args
        self.inbox = f"{root}/node{index}/inbox"
        self.outbox = f"{root}/node{index}/outbox"
        self.url = url
        self.diagnostic = diagnostic
        self.root = root
        self.process = None
        self.starts = 0
        os.makedirs(self.inbox, exist_ok=True)

    def start(self, extra=()):
        command = [self.args.quern, "serve", "--queue", self.url, "--shared", f"{self.root}/shared",
                   "--inbox", self.inbox, "--outbox", self.outbox, "--models", self.args.models, "--settle", "0.1",
                   "--queue-lease", "3", "--log-level", "info", "--threads", "1",
                   # A kill every second or so, re-run jobs first in line: an
                   # innocent job can be in the running batch of three killed
                   # workers. --max-attempts is what sets a job aside; the
                   # queue's unit tests check it, this run checks no loss.
                   "--max-attempts", "10"]
        if self.diagnostic:
            command += ["--diagnostic-pipeline", "--diagnostic-delay-ms", "15"]
        else:
            command += ["--queue-prefetch", "2"]
        command += list(extra)
        self.starts += 1
        logfile = open(f"{self.root}/node{self.index}/worker.log", "a")
        logfile.write(f"--- start {self.starts} ({'diagnostic' if self.diagnostic else 'models'})\n")
        logfile.flush()
        self.process = subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return -9
        return self.process.returncode if self.process else None


def drop(inbox, name, data):
    """Writes a file beside the inbox and renames it in: it appears whole."""
    folder = os.path.dirname(os.path.join(inbox, name))
    os.makedirs(folder, exist_ok=True)
    staging = os.path.join(os.path.dirname(inbox), ".staging-" + os.path.basename(name))
    with open(staging, "wb") as handle:
        handle.write(data)
    os.rename(staging, os.path.join(inbox, name))


def real_inputs(count):
    """(name, bytes) of real inputs: embed, classify, transcribe and chat."""
    images = sorted(f for f in os.listdir(f"{REPO}/Tests/QuernModelTests/Images/Corpus/good") if f.endswith(".png"))
    digits = sorted(os.listdir(f"{REPO}/../shared/datasets/fsdd/recordings"))[::97]
    inputs = []
    for index in range(count):
        slot = index % 5
        if slot in (0, 1):
            inputs.append((f"embed/r{index:03d}.txt", f"Sentence number {index} about the weather and the sea.".encode()))
        elif slot == 2:
            name = images[index % len(images)]
            with open(f"{REPO}/Tests/QuernModelTests/Images/Corpus/good/{name}", "rb") as handle:
                inputs.append((f"classify/r{index:03d}-{name}", handle.read()))
        elif slot == 3:
            name = digits[index % len(digits)]
            with open(f"{REPO}/../shared/datasets/fsdd/recordings/{name}", "rb") as handle:
                inputs.append((f"transcribe/r{index:03d}-{name}", handle.read()))
        else:
            request = {"task": "chat", "messages": [{"role": "user", "content": f"Say the number {index}."}],
                       "max_tokens": 6, "seed": index}
            inputs.append((f"r{index:03d}-chat.json", json.dumps(request).encode()))
    return inputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quern", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--diagnostic", type=int, default=2000)
    parser.add_argument("--real", type=int, default=50)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--keep", help="keep the run's folder here instead of a temporary one")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    random.seed(args.seed)
    root = args.keep or tempfile.mkdtemp(prefix="quern-chaos-")
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o777)
    log(f"run folder {root}, seed {args.seed}")
    cluster = Cluster(f"{root}/pg")
    failures = []
    report = {"seed": args.seed}
    workers = []
    started = time.monotonic()
    try:
        subprocess.run([args.quern, "queue", "init", "--queue", cluster.url], check=True)

        def finished():
            return int(cluster.query("SELECT count(*) FROM quern_jobs WHERE state IN ('done', 'failed', 'cancelled')")[0][0])

        def wait_for(total, kills, label):
            """Waits until `total` jobs ended, killing a random worker `kills` times on the way."""
            deadline = time.monotonic() + args.timeout
            done_kills = 0
            restarted_pg = label != "diagnostic"
            while time.monotonic() < deadline:
                try:
                    ended = finished()
                except subprocess.CalledProcessError:
                    ended = -1  # PostgreSQL restarting
                if ended >= total and done_kills >= kills:
                    return done_kills
                if done_kills < kills:
                    time.sleep(random.uniform(0.3, 1.2))
                    victim = random.choice(workers)
                    victim.kill()
                    done_kills += 1
                    log(f"{label}: killed worker {victim.index} (kill {done_kills}/{kills}), {ended} of {total} jobs ended")
                    victim.start()
                    if not restarted_pg and done_kills == kills // 2:
                        log("restarting PostgreSQL")
                        cluster.restart()
                        restarted_pg = True
                else:
                    time.sleep(0.5)
            failures.append(f"{label}: only {finished()} of {total} jobs ended within {args.timeout} s")
            return done_kills

        # Phase 1: the diagnostic pipeline, DIAGNOSTIC files, most kills and the PostgreSQL restart.
        workers = [Worker(index, args, root, cluster.url, diagnostic=True) for index in range(args.workers)]
        for worker in workers:
            worker.start()
        time.sleep(1.0)
        names = []
        for index in range(args.diagnostic):
            name = f"d{index:05d}.txt"
            drop(workers[index % len(workers)].inbox, name, f"diagnostic input {index}\n".encode())
            names.append(name)
        phase1_kills = args.kills - max(1, args.kills // 4) if args.real else args.kills
        kills = wait_for(args.diagnostic, phase1_kills, "diagnostic")
        phase1_seconds = time.monotonic() - started
        for worker in workers:
            worker.stop()

        # Phase 2: the default models, REAL inputs, the remaining kills.
        if args.real:
            workers = [Worker(index, args, root, cluster.url, diagnostic=False) for index in range(args.workers)]
            for worker in workers:
                worker.start()
            time.sleep(1.0)
            for index, (name, data) in enumerate(real_inputs(args.real)):
                drop(workers[index % len(workers)].inbox, name, data)
                names.append(name)
            kills += wait_for(args.diagnostic + args.real, args.kills - kills, "models")
        # The HTTP door: a job posted to one node's API runs on the queue.
        http_worker = workers[0]
        http_worker.stop()
        http_worker.start(extra=["--http-listen", "127.0.0.1:0"])
        base = None
        deadline = time.monotonic() + 60
        while base is None and time.monotonic() < deadline:
            with open(f"{root}/node0/worker.log") as handle:
                for line in handle.read().split(f"--- start {http_worker.starts}")[-1].splitlines():
                    for field in line.split():
                        if field.startswith("http_listen="):
                            base = "http://" + field.split("=", 1)[1]
            time.sleep(0.2)
        # The routes are added once the daemon serves: wait for /ready.
        while base is not None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/ready", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        if base is None:
            failures.append("the HTTP API did not start")
        else:
            body = b"A sentence posted to the queue over HTTP."
            request = urllib.request.Request(f"{base}/v1/queue/jobs?name=posted.txt&folder=embed", data=body, method="POST")
            with urllib.request.urlopen(request, timeout=30) as answer:
                posted = json.load(answer)
                report["http_post_status"] = answer.status
            job = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with urllib.request.urlopen(f"{base}/v1/queue/jobs?id={posted['id']}", timeout=30) as answer:
                    job = json.load(answer)
                if job["state"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            report["http_job"] = {"id": posted["id"], "state": job and job["state"],
                                  "dimensions": job and job["result"] and job["result"]["result"]["dimensions"]}
            if not job or job["state"] != "done" or job["result"]["input"]["name"] != "posted.txt" or job["result"]["task"] != "embed":
                failures.append(f"the job posted over HTTP: {job}")
            names.append("posted.txt")
        exit_codes = [worker.stop() for worker in workers]
        report["seconds"] = round(time.monotonic() - started, 1)
        report["phase1_seconds"] = round(phase1_seconds, 1)
        report["kills"] = kills
        report["graceful_exit_codes"] = exit_codes

        # Every dropped input is exactly one job…
        rows = cluster.query("SELECT id, state, attempts, coalesce(error_code, ''), parameters->>'name', coalesce(result_location, '') FROM quern_jobs")
        by_name = {}
        for row in rows:
            by_name.setdefault(row[4], []).append(row)
        report["jobs"] = len(rows)
        base = {name.split("/")[-1] for name in names}
        missing = sorted(base - set(by_name))
        twice = sorted(name for name, jobs in by_name.items() if len(jobs) > 1)
        if len(rows) != len(names) or missing or twice:
            failures.append(f"{len(names)} inputs dropped, {len(rows)} jobs; no job: {missing[:5]}; several jobs: {twice[:5]}")
        states = {}
        for row in rows:
            states[row[1]] = states.get(row[1], 0) + 1
        report["states"] = states
        if states.get("done", 0) != len(rows):
            failures.append(f"not every job is done: {states}; failed: {[r for r in rows if r[1] != 'done'][:5]}")
        attempts = {}
        for row in rows:
            attempts[int(row[2])] = attempts.get(int(row[2]), 0) + 1
        report["attempts"] = {str(key): value for key, value in sorted(attempts.items())}
        if kills and not any(key > 1 for key in attempts):
            failures.append("workers were killed but no job records a second attempt")

        # …with exactly one result, which names its job and its input.
        results = {}
        litter = []
        for folder, _, files in os.walk(f"{root}/shared/outbox"):
            for name in files:
                if name.startswith("."):
                    litter.append(name)
                    continue
                if not name.endswith(".json"):
                    continue  # transcript sidecars
                job = name.split("-", 1)[0]
                results.setdefault(job, []).append(os.path.join(folder, name))
        report["result_files"] = sum(len(files) for files in results.values())
        report["temporary_files_left"] = len(litter)
        for row in rows:
            files = results.get(row[0], [])
            if len(files) != 1:
                failures.append(f"job {row[0]} ({row[4]}) has {len(files)} result files")
                continue
            with open(files[0]) as handle:
                document = json.load(handle)
            if document.get("claim_id") != f"job-{row[0]}" or document["input"]["name"] != row[4]:
                failures.append(f"result {files[0]} names {document.get('claim_id')} / {document['input']['name']}")
            if row[1] == "done" and document.get("status") != "ok":
                failures.append(f"job {row[0]} is done but its result says {document.get('status')}: {document.get('error')}")
        extra = sorted(set(results) - {row[0] for row in rows})
        if extra:
            failures.append(f"results without a job: {extra[:5]}")
        real_ok = sum(1 for row in rows if row[4][0] in "rp" and row[1] == "done")
        report["real_model_jobs_done"] = real_ok

        # Nothing left behind on the nodes: inboxes and work areas empty.
        leftovers = []
        for worker in workers:
            for folder, dirs, files in os.walk(worker.inbox):
                dirs[:] = [d for d in dirs if d != ".quern"]
                leftovers += [f for f in files if not f.startswith(".")]
            work = f"{worker.inbox}/.quern/work"
            if os.path.isdir(work):
                leftovers += os.listdir(work)
        if leftovers:
            failures.append(f"left in inboxes or work areas: {leftovers[:5]}")
        report["inputs_left_in_shared"] = len(os.listdir(f"{root}/shared/inputs"))
    finally:
        for worker in workers:
            if worker.process and worker.process.poll() is None:
                worker.process.kill()
        cluster.stop()
        if not args.keep and not failures:
            shutil.rmtree(root, ignore_errors=True)

    print(json.dumps(report, indent=2))
    if failures:
        print("FAILED (run folder kept: %s):\n  " % root + "\n  ".join(failures[:20]))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
