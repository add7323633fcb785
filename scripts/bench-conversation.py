#!/usr/bin/env python3
"""Time to first token of turn 5 of a conversation, with and without the
conversation prefix cache (`--conversation-cache`), on a real `quern serve`.

Each run starts `quern serve` on a scratch inbox with the real models, then
plays CONVERSATIONS conversations of five turns each. Every turn is a file
carrying only its new user message and `"conversation": ID`; the next turn is
dropped once the previous result is out (as a chat client does). The time to
first token is the prompt pass that yields the first reply token's logits:
the result's `usage.prompt_tokens / speed.prompt_tokens_per_second` (the
prompt pass is timed on its own; sampling one token adds microseconds). The
result's `conversation.cached_tokens` says how much of the prompt came from
the cache.

Runs twice: `--conversation-cache 256M` (the default) and `--conversation-cache 0`,
and prints the median turn-5 time to first token of each and their ratio.

Usage: scripts/bench-conversation.py [--binary PATH] [--models DIR] [--conversations N] [--max-tokens N] [--json]
Build first: swift build -c release --product quern
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Five user turns of a plausible chat, each a few sentences long, so that
# turn 5's prompt holds four earlier turns and their replies.
TURNS = [
    "I am planning a week-long walking holiday along the coast of Cornwall in late September. "
    "I will travel with my sister, who is a keen photographer, and we would like to stay in small towns. "
    "Which towns would you suggest as bases for the first three nights?",
    "Thank you. We will arrive by train, so we would rather not rent a car. "
    "How easy is it to move between those towns by bus or on foot along the coast path, "
    "and how long are the walking stages between them?",
    "My sister wants to photograph the sunrise over the sea at least twice during the trip. "
    "Which beaches or headlands face east, and what time does the sun rise there in late September?",
    "We also like seafood and would like to try a proper Cornish pasty. "
    "Could you suggest what to eat in each of the towns, and whether we should book tables in advance?",
    "Finally, please summarise the whole plan in a short list: the towns, the walks, the sunrise spots and the food.",
]


def request(conversation, text, max_tokens):
    return json.dumps({"task": "chat", "conversation": conversation, "max_tokens": max_tokens, "temperature": 0,
                       "messages": [{"role": "user", "content": text}]}).encode()


def wait_for(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, "rb") as handle:
                return json.load(handle)
        time.sleep(0.005)
    raise TimeoutError(f"no result at {path} after {timeout} s")


def run(binary, models, cache, conversations, max_tokens):
    scratch = tempfile.mkdtemp(prefix="quern-bench-conversation-")
    inbox, outbox = os.path.join(scratch, "inbox"), os.path.join(scratch, "outbox")
    os.makedirs(inbox)
    os.makedirs(outbox)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QUERN_")}
    log = open(os.path.join(scratch, "daemon.log"), "wb")
    daemon = subprocess.Popen([binary, "serve", "--inbox", inbox, "--outbox", outbox, "--models", models, "--preload",
                               "--settle", "0.2", "--conversation-cache", cache], stderr=log, stdout=subprocess.DEVNULL, env=environment)
    try:
        deadline = time.monotonic() + 180
        while b"msg=serving" not in open(log.name, "rb").read():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("quern serve did not start:\n" + open(log.name).read())
            time.sleep(0.05)
        rows = []
        for c in range(conversations):
            conversation = f"bench-{c}"
            for turn, text in enumerate(TURNS, start=1):
                name = f"{conversation}-turn{turn}.json"
                staged = os.path.join(inbox, "." + name + ".part")
                with open(staged, "wb") as handle:
                    handle.write(request(conversation, text, max_tokens))
                os.rename(staged, os.path.join(inbox, name))
                result = wait_for(os.path.join(outbox, name + ".json"), 300)
                if result["status"] != "ok":
                    raise RuntimeError(f"{name}: {result['error']}")
                answer = result["result"]
                prompt = answer["usage"]["prompt_tokens"]
                rate = answer["speed"]["prompt_tokens_per_second"]
                rows.append({"conversation": c, "turn": turn, "prompt_tokens": prompt,
                             "cached_tokens": answer["conversation"]["cached_tokens"],
                             "ttft_ms": 1000 * prompt / rate if rate > 0 else float("nan"),
                             "inference_ms": result["timings"]["inference_ms"]})
        return rows
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        log.close()
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/quern"))
    parser.add_argument("--models", default=os.path.join(ROOT, "models"))
    parser.add_argument("--conversations", type=int, default=3, help="conversations per run (default 3)")
    parser.add_argument("--max-tokens", type=int, default=96, help="max_tokens of each reply (default 96)")
    parser.add_argument("--json", action="store_true", help="print every turn's numbers as JSON")
    arguments = parser.parse_args()
    summary = {}
    for label, cache in (("with cache", "256M"), ("without cache", "0")):
        rows = run(arguments.binary, arguments.models, cache, arguments.conversations, arguments.max_tokens)
        fifth = [row for row in rows if row["turn"] == 5]
        summary[label] = {
            "turn5_ttft_ms_median": statistics.median(row["ttft_ms"] for row in fifth),
            "turn5_prompt_tokens": statistics.median(row["prompt_tokens"] for row in fifth),
            "turn5_cached_tokens": statistics.median(row["cached_tokens"] for row in fifth),
            "turn5_inference_ms_median": statistics.median(row["inference_ms"] for row in fifth),
        }
        if arguments.json:
            print(json.dumps({"run": label, "turns": rows}))
    with_cache, without = summary["with cache"], summary["without cache"]
    for label, numbers in summary.items():
        print(f"{label:14} turn 5: {numbers['turn5_prompt_tokens']:.0f} prompt tokens, {numbers['turn5_cached_tokens']:.0f} from the cache, "
              f"time to first token {numbers['turn5_ttft_ms_median']:.1f} ms (median), inference {numbers['turn5_inference_ms_median']:.0f} ms")
    ratio = without["turn5_ttft_ms_median"] / with_cache["turn5_ttft_ms_median"]
    print(f"turn-5 time to first token: {ratio:.1f}x lower with the cache (acceptance: at least 3x)")
    return 0 if ratio >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
