#!/usr/bin/env python3
"""kill -9 soak: `quern serve` on the default models is killed --kills times
(default 20) at random moments while --files inputs (default 600: short texts
embedded, PNG photos classified) are being worked on, then run to the end.

Checks what PRODUCT.md promises and the hardening issue measures:
- every input has exactly one result, and every input is archived;
- no `internal` result (an input charged --max-attempts times);
- every charged attempt (recovery's "charged an attempt" log line) belongs to
  an input that carried the `.running` marker — was inside intake or the
  model — when the process was killed; inputs that were only queued are never
  charged.

    scripts/soak-kill.py [--kills 20] [--files 600] [--models DIR] [--keep]

Needs a release build (.build/release/quern). Not part of CI: a long campaign.
"""
import argparse
import json
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def running_claims(work):
    found = {}
    for claim in work.iterdir() if work.exists() else []:
        try:
            entries = os.listdir(claim)
        except OSError:
            continue
        if ".running" in entries:
            found[claim.name] = [e for e in entries if not e.startswith(".")]
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--binary", default=str(ROOT / ".build/release/quern"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    scratch = pathlib.Path(tempfile.mkdtemp(prefix="quern-soak-kill-"))
    inbox, outbox, staging = scratch / "inbox", scratch / "outbox", scratch / "staging"
    for folder in (inbox, outbox, staging):
        folder.mkdir()
    work = inbox / ".quern/work"
    photos = sorted((ROOT / "Tests/QuernModelTests/Images/Corpus/good").glob("photo-*.png"))
    names = []
    for index in range(args.files):
        if photos and index % 4 == 3:
            name = f"photo-{index:04d}.png"
            shutil.copy(photos[index % len(photos)], staging / name)
        else:
            name = f"text-{index:04d}.txt"
            (staging / name).write_text(f"Sentence number {index} about the weather, trains and {rng.random()}.\n")
        names.append(name)
    for name in names:
        os.rename(staging / name, inbox / name)

    serve = [args.binary, "serve", "--inbox", str(inbox), "--outbox", str(outbox), "--models", args.models,
             "--text-task", "embed", "--max-attempts", "3"]
    charged_at_kill = {}  # claim id -> input names, for claims carrying .running at a kill
    logs = []
    started = time.time()
    for kill in range(args.kills):
        log_path = scratch / f"round-{kill:02d}.log"
        logs.append(log_path)
        with open(log_path, "w") as log:
            daemon = subprocess.Popen(serve, stderr=log, stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        while "msg=serving" not in log_path.read_text():
            if daemon.poll() is not None or time.time() > deadline:
                sys.exit(f"round {kill}: the daemon did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        # Strike while something is inside the model, at a random moment.
        deadline = time.time() + 30
        while not running_claims(work) and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.5))
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        running = running_claims(work)
        charged_at_kill.update(running)
        done = sum(1 for p in outbox.iterdir() if not p.name.startswith("."))
        print(f"kill {kill + 1:2d}: {done:4d}/{len(names)} results, {len(running)} input(s) inside intake or the model", flush=True)

    final_log = scratch / "final.log"
    logs.append(final_log)
    with open(final_log, "w") as log:
        daemon = subprocess.Popen(serve, stderr=log, stdout=subprocess.DEVNULL)
    deadline = time.time() + 1800
    while True:
        done = sum(1 for p in outbox.iterdir() if not p.name.startswith("."))
        if done >= len(names) and not any(work.iterdir()) or time.time() > deadline or daemon.poll() is not None:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    daemon.send_signal(signal.SIGTERM)
    exit_code = daemon.wait(timeout=60)
    elapsed = time.time() - started

    results = {}
    for path in outbox.iterdir():
        if path.name.startswith("."):
            continue
        document = json.loads(path.read_text())
        results.setdefault(document["input"]["name"], []).append(document)
    missing = [n for n in names if n not in results]
    duplicated = [n for n, docs in results.items() if len(docs) > 1]
    statuses = {}
    for docs in results.values():
        code = (docs[0].get("error") or {}).get("code", "ok")
        statuses[code] = statuses.get(code, 0) + 1
    charges = []
    for path in logs:
        for line in path.read_text().splitlines():
            if "charged an attempt" in line:
                match = re.search(r"claim=(\S+)", line)
                charges.append(match.group(1) if match else "?")
    uncharged_ok = all(claim in charged_at_kill for claim in charges)
    archived = sum(len([e for e in os.listdir(d) if not e.startswith(".")])
                   for root in (inbox / ".quern/archive/done", inbox / ".quern/archive/failed") if root.exists()
                   for d in root.iterdir())
    print(f"\n{len(names)} inputs, {args.kills} kills, {elapsed:.0f} s; results by code: {statuses}")
    print(f"archived {archived}; missing {len(missing)}; duplicated {len(duplicated)}; final exit {exit_code}")
    print(f"attempts charged: {len(charges)} (to {len(set(charges))} inputs); inputs inside intake or a model at a kill: "
          f"{len(charged_at_kill)}; every charge was to one of them: {uncharged_ok}")
    failed = missing or duplicated or statuses.get("internal") or not uncharged_ok or exit_code != 0 or archived != len(names)
    if not args.keep and not failed:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"scratch kept: {scratch}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
