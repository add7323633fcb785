#!/usr/bin/env python3
"""SIGTERM soak: --runs times (default 20), `quern serve` on the default
models starts transcribing a long recording (--seconds of speech, default
1800) and gets SIGTERM at a random moment inside the work, with a short
--shutdown-grace so the running transcription is abandoned mid-computation.
Every run must exit 0 (the documented code) — an exit that tears the process
down while the abandoned pipeline is still in OpenBLAS used to end in SIGSEGV
— and leave the recording handed back, not failed.

    scripts/soak-sigterm.py [--runs 20] [--seconds 1800] [--grace 2] [--models DIR]

Needs a release build, espeak-ng and sox. Not part of CI: a long campaign.
"""
import argparse
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=1800)
    parser.add_argument("--grace", default="2")
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--binary", default=str(ROOT / ".build/release/quern"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    scratch = pathlib.Path(tempfile.mkdtemp(prefix="quern-soak-sigterm-"))
    speech = scratch / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(scratch / "raw.wav"),
                    "The quick brown fox jumps over the lazy dog. This recording keeps the daemon busy while it is told to stop."],
                   check=True)
    subprocess.run(["sox", str(scratch / "raw.wav"), "-r", "16000", "-c", "1", str(speech)], check=True)
    length = float(subprocess.run(["soxi", "-D", str(speech)], capture_output=True, text=True, check=True).stdout)
    long_wav = scratch / "long.wav"
    subprocess.run(["sox", str(speech), str(long_wav), "repeat", str(max(1, int(args.seconds / length)))], check=True)

    codes = []
    for run in range(args.runs):
        inbox, outbox = scratch / f"run-{run}" / "inbox", scratch / f"run-{run}" / "outbox"
        inbox.mkdir(parents=True)
        outbox.mkdir()
        log_path = scratch / f"run-{run}" / "serve.log"
        with open(log_path, "w") as log:
            daemon = subprocess.Popen([args.binary, "serve", "--inbox", str(inbox), "--outbox", str(outbox),
                                       "--models", args.models, "--shutdown-grace", args.grace],
                                      stderr=log, stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        while "msg=serving" not in log_path.read_text():
            if daemon.poll() is not None or time.time() > deadline:
                sys.exit(f"run {run}: the daemon did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        staged = scratch / f"run-{run}" / "long.wav"
        shutil.copy(long_wav, staged)
        os.rename(staged, inbox / "long.wav")
        work = inbox / ".quern/work"
        deadline = time.time() + 30
        while time.time() < deadline and not any((c / ".running").exists() for c in (work.iterdir() if work.exists() else [])):
            time.sleep(0.02)
        delay = rng.uniform(1.0, 8.0)
        time.sleep(delay)
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            code = "hung"
        handed_back = any((c / ".handed-back").exists() for c in work.iterdir()) if work.exists() else False
        results = [p for p in outbox.iterdir() if not p.name.startswith(".")]
        codes.append(code)
        print(f"run {run + 1:2d}: SIGTERM {delay:.1f} s into the work -> exit {code}; "
              f"{'handed back' if handed_back else 'result written' if results else 'NOTHING LEFT'}", flush=True)
    good = sum(1 for code in codes if code == 0)
    print(f"\nexit 0 in {good} of {len(codes)} runs (recording {args.seconds} s, --shutdown-grace {args.grace})")
    if good == len(codes):
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"logs kept in {scratch}")
    sys.exit(0 if good == len(codes) else 1)


if __name__ == "__main__":
    main()
