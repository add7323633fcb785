#!/usr/bin/env python3
"""Time to first token of turn 5 of a conversation, with and without the
conversation prefix cache (`--conversation-cache`), on a real `quern serve`.

Each run starts `quern serve --http-listen` on a scratch inbox with the real
models, then plays CONVERSATIONS conversations of five turns each through
the HTTP API, as a chat client does: every turn carries only its new user
message and `"conversation": ID`, streamed (`stream: true`); the next turn
is sent once the previous reply has ended. The time to first token is what
the client sees: from sending the request to receiving the first piece of
the reply's text (greedy, so both runs produce the same tokens).

Runs twice: `--conversation-cache 256M` (the default) and `--conversation-cache 0`,
and prints the median turn-5 time to first token of each and their ratio.

Usage: scripts/bench-conversation.py [--binary PATH] [--models DIR] [--conversations N] [--max-tokens N] [--json]
Build first: swift build -c release --product quern
"""
import argparse
import http.client
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


def turn(address, conversation, text, max_tokens):
    """One streamed turn: (ms to the first text piece, prompt tokens, reply)."""
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=300)
    body = json.dumps({"conversation": conversation, "max_tokens": max_tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}, "messages": [{"role": "user", "content": text}]})
    start = time.perf_counter()
    connection.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"turn of {conversation}: HTTP {response.status}: {response.read()[:500]!r}")
    first, usage, reply = None, None, []
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data: "):
            continue
        if line == "data: [DONE]":
            break
        event = json.loads(line[len("data: "):])
        if "error" in event:
            raise RuntimeError(f"turn of {conversation}: {event['error']}")
        for choice in event["choices"]:
            piece = choice["delta"].get("content")
            if piece:
                reply.append(piece)
                if first is None:
                    first = time.perf_counter()
        if event.get("usage"):
            usage = event["usage"]
    connection.close()
    return 1000 * (first - start), usage["prompt_tokens"], "".join(reply)


def run(binary, models, cache, conversations, max_tokens):
    scratch = tempfile.mkdtemp(prefix="quern-bench-conversation-")
    inbox, outbox = os.path.join(scratch, "inbox"), os.path.join(scratch, "outbox")
    os.makedirs(inbox)
    os.makedirs(outbox)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QUERN_")}
    log = open(os.path.join(scratch, "daemon.log"), "wb")
    daemon = subprocess.Popen([binary, "serve", "--inbox", inbox, "--outbox", outbox, "--models", models, "--preload",
                               "--http-listen", "127.0.0.1:0", "--conversation-cache", cache],
                              stderr=log, stdout=subprocess.DEVNULL, env=environment)
    try:
        deadline = time.monotonic() + 180
        while b"msg=serving" not in open(log.name, "rb").read():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("quern serve did not start:\n" + open(log.name).read())
            time.sleep(0.05)
        address = next(field.split("=", 1)[1] for line in open(log.name) if "http api" in line
                       for field in line.split() if field.startswith("http_listen="))
        rows = []
        for c in range(conversations):
            conversation = f"bench-{c}"
            for number, text in enumerate(TURNS, start=1):
                ttft, prompt, reply = turn(address, conversation, text, max_tokens)
                rows.append({"conversation": c, "turn": number, "prompt_tokens": prompt, "ttft_ms": ttft, "reply_chars": len(reply)})
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
            "turn5_ttft_ms_all": [round(row["ttft_ms"], 1) for row in fifth],
            "turn5_prompt_tokens": statistics.median(row["prompt_tokens"] for row in fifth),
            "turn1_ttft_ms_median": statistics.median(row["ttft_ms"] for row in rows if row["turn"] == 1),
        }
        if arguments.json:
            print(json.dumps({"run": label, "turns": rows}))
    with_cache, without = summary["with cache"], summary["without cache"]
    for label, numbers in summary.items():
        print(f"{label:14} turn 5: {numbers['turn5_prompt_tokens']:.0f} prompt tokens, time to first token "
              f"{numbers['turn5_ttft_ms_median']:.1f} ms (median of {numbers['turn5_ttft_ms_all']}); turn 1: {numbers['turn1_ttft_ms_median']:.1f} ms")
    ratio = without["turn5_ttft_ms_median"] / with_cache["turn5_ttft_ms_median"]
    print(f"turn-5 time to first token: {ratio:.1f}x lower with the cache (acceptance: at least 3x)")
    return 0 if ratio >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
