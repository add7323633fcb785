#!/usr/bin/env python3
"""Drives a running `quern serve --http-listen` with the official `openai`
client and checks every endpoint against what the inbox answers for the
same request (the daemon's other door).

Run by the integration test Tests/QuernDaemonTests/Integration/OpenAIAPITests.swift
with the pinned client of scripts/install-deps.sh (~/.cache/quern/venv-openai):

    check-openai-api.py --base-url http://127.0.0.1:PORT/v1 --api-key KEY \
        --inbox DIR --outbox DIR --speech FILE.wav --image FILE.png --max-bytes N

Prints one line per check and exits 1 on the first failure.
"""
import argparse
import base64
import io
import json
import math
import os
import socket
import struct
import sys
import time
import urllib.parse

import openai
import srt
import webvtt

CHAT_MODEL = "smollm2-135m-instruct"
EMBED_MODEL = "all-minilm-l6-v2"
SPEECH_MODEL = "whisper-tiny-en"


def check(condition, what, detail=""):
    if not condition:
        print(f"FAIL {what}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok   {what}", flush=True)


def inbox_result(args, name, payload):
    """Drops `payload` (bytes) as inbox/name and returns its parsed result."""
    temporary = os.path.join(args.inbox, "." + name + ".part")
    with open(temporary, "wb") as handle:
        handle.write(payload)
    os.rename(temporary, os.path.join(args.inbox, name))
    target = os.path.join(args.outbox, name + ".json")
    deadline = time.time() + 180
    while time.time() < deadline:
        if os.path.exists(target):
            with open(target) as handle:
                return json.load(handle)
        time.sleep(0.1)
    raise SystemExit(f"FAIL no inbox result for {name} within 180 s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--inbox", required=True)
    parser.add_argument("--outbox", required=True)
    parser.add_argument("--speech", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--max-bytes", type=int, required=True)
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=180)
    print(f"openai {openai.__version__}", flush=True)

    # Models.
    ids = {model.id for model in client.models.list()}
    check({CHAT_MODEL, EMBED_MODEL, SPEECH_MODEL, "open-nsfw"} <= ids, "models.list names every served model", ids)

    # Authentication: a wrong key and no key are 401, before any work.
    for key in ["wrong-key", ""]:
        try:
            openai.OpenAI(base_url=args.base_url, api_key=key or "x", max_retries=0,
                          default_headers={} if key else {"Authorization": ""}).models.list()
            check(False, f"401 for key {key!r}", "the request was answered")
        except openai.AuthenticationError as error:
            check(error.status_code == 401 and error.code == "auth.invalid_api_key", f"401 with code auth.invalid_api_key for key {key!r}", error)

    # Chat, plain and streamed: the same seed gives the same text.
    messages = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": "Name three colours."}]
    plain = client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=32, seed=11, temperature=0.8)
    reply = plain.choices[0].message.content
    check(plain.object == "chat.completion" and reply and plain.choices[0].finish_reason in ("stop", "length"), "chat plain", plain)
    usage = plain.usage
    check(usage.total_tokens == usage.prompt_tokens + usage.completion_tokens and usage.completion_tokens > 0, "chat usage adds up", usage)
    pieces, finish, streamed_usage, chunks = [], None, None, 0
    for chunk in client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=32, seed=11, temperature=0.8,
                                                stream=True, stream_options={"include_usage": True}):
        chunks += 1
        if chunk.usage is not None:
            streamed_usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason:
                finish = choice.finish_reason
    check("".join(pieces) == reply, "chat streamed equals chat plain", ("".join(pieces), reply))
    check(len(pieces) > 3 and chunks > len(pieces), f"chat streamed token by token ({len(pieces)} text chunks)")
    check(finish == plain.choices[0].finish_reason and streamed_usage is not None
          and streamed_usage.completion_tokens == usage.completion_tokens, "chat stream ends with finish_reason and usage", (finish, streamed_usage))

    # n: choice 0 is the n=1 reply (choice i samples with seed + i).
    several = client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=32, seed=11, temperature=0.8, n=3)
    check(len(several.choices) == 3 and several.choices[0].message.content == reply
          and [c.index for c in several.choices] == [0, 1, 2], "chat n=3", several.choices)

    # The same OpenAI body dropped as a file gives the same reply.
    body = {"model": CHAT_MODEL, "messages": messages, "max_tokens": 32, "seed": 11, "temperature": 0.8, "stream": True}
    document = inbox_result(args, "openai-chat.json", json.dumps(body).encode())
    check(document["status"] == "ok" and document["result"]["choices"][0]["message"]["content"] == reply,
          "an OpenAI chat body dropped as a file gives the HTTP reply", document.get("result"))
    check(any("stream" in note for note in document["result"].get("notes", [])), "a file's ignored stream is noted", document["result"].get("notes"))

    # Completions, plain and streamed.
    completion = client.completions.create(model=CHAT_MODEL, prompt="Once upon a time", max_tokens=24, seed=5, temperature=0.8)
    text = completion.choices[0].text
    check(completion.object == "text_completion" and text, "completion plain", completion)
    streamed = "".join(chunk.choices[0].text for chunk in client.completions.create(
        model=CHAT_MODEL, prompt="Once upon a time", max_tokens=24, seed=5, temperature=0.8, stream=True) if chunk.choices)
    check(streamed == text, "completion streamed equals plain", (streamed, text))
    # A stop string that a streamed piece could begin: never sent.
    stop_plain = client.completions.create(model=CHAT_MODEL, prompt="1, 2, 3,", max_tokens=24, seed=3, temperature=0, stop=[" 7"])
    stop_streamed = "".join(chunk.choices[0].text for chunk in client.completions.create(
        model=CHAT_MODEL, prompt="1, 2, 3,", max_tokens=24, seed=3, temperature=0, stop=[" 7"], stream=True) if chunk.choices)
    check(stop_streamed == stop_plain.choices[0].text and " 7" not in stop_streamed, "a stop string is never streamed", (stop_streamed, stop_plain.choices[0].text))

    # Embeddings: float, base64 and the client's default (base64 it decodes
    # itself) all equal the inbox's result for the same texts.
    texts = ["The cat sat on the mat.", "Quern grinds files into JSON."]
    inbox = inbox_result(args, "openai-embed.json", json.dumps({"input": texts, "model": EMBED_MODEL}).encode())
    expected = [item["embedding"] for item in inbox["result"]["data"]]
    as_float = client.embeddings.create(model=EMBED_MODEL, input=texts, encoding_format="float")
    check([item.embedding for item in as_float.data] == expected, "embeddings float equal the inbox result bit for bit")
    # The JSON numbers are the shortest decimals of float32 values: as
    # float32 they are the very values base64 carries.
    expected32 = [list(struct.unpack(f"<{len(vector)}f", struct.pack(f"<{len(vector)}f", *vector))) for vector in expected]
    as_base64 = client.embeddings.create(model=EMBED_MODEL, input=texts, encoding_format="base64")
    decoded = [list(struct.unpack(f"<{len(vector)}f", base64.b64decode(item.embedding))) for item, vector in zip(as_base64.data, expected)]
    check(all(isinstance(item.embedding, str) for item in as_base64.data) and decoded == expected32, "embeddings base64 decode to the inbox result's float32 values")
    default = client.embeddings.create(model=EMBED_MODEL, input=texts)
    check([list(map(float, item.embedding)) for item in default.data] == expected32, "embeddings in the client's default encoding (base64) equal the inbox result")
    check(as_float.usage.prompt_tokens == inbox["result"]["usage"]["prompt_tokens"], "embedding usage")
    try:
        client.embeddings.create(model=EMBED_MODEL, input="x", dimensions=64)
        check(False, "dimensions refused", "it was accepted")
    except openai.BadRequestError as error:
        check(error.code == "request.field_not_applicable" and "dimensions" in str(error), "dimensions refused with a clear error", error)

    # Transcription in every response_format, against the inbox's result.
    with open(args.speech, "rb") as handle:
        speech = handle.read()
    name = os.path.basename(args.speech)
    inbox = inbox_result(args, "openai-" + name, speech)["result"]
    segments = inbox["segments"]
    as_json = client.audio.transcriptions.create(model=SPEECH_MODEL, file=(name, speech), response_format="json")
    check(as_json.text == inbox["text"].strip(), "transcription json equals the inbox text", (as_json.text, inbox["text"]))
    as_text = client.audio.transcriptions.create(model=SPEECH_MODEL, file=(name, speech), response_format="text")
    check(as_text.strip() == inbox["text"].strip(), "transcription text", as_text)
    as_srt = client.audio.transcriptions.create(model=SPEECH_MODEL, file=(name, speech), response_format="srt")
    cues = list(srt.parse(as_srt))
    check(len(cues) == len(segments) and all(
        abs(cue.start.total_seconds() - segment["start"]) < 0.0015 and abs(cue.end.total_seconds() - segment["end"]) < 0.0015
        and cue.content.strip() == segment["text"].strip() for cue, segment in zip(cues, segments)), f"transcription srt parses ({len(cues)} cues) and matches the segments")
    as_vtt = client.audio.transcriptions.create(model=SPEECH_MODEL, file=(name, speech), response_format="vtt")
    captions = list(webvtt.from_buffer(io.StringIO(as_vtt)))
    check(len(captions) == len(segments) and all(
        abs(caption.start_time.in_milliseconds() / 1000 - segment["start"]) < 0.0015
        and abs(caption.end_time.in_milliseconds() / 1000 - segment["end"]) < 0.0015
        and caption.text.strip() == segment["text"].strip() for caption, segment in zip(captions, segments)),
        f"transcription vtt parses ({len(captions)} captions) and matches the segments")
    verbose = client.audio.transcriptions.create(model=SPEECH_MODEL, file=(name, speech), response_format="verbose_json",
                                                timestamp_granularities=["word", "segment"])
    check(verbose.language == "english" and abs(verbose.duration - inbox["duration_s"]) < 0.0015
          and len(verbose.segments) == len(segments) and verbose.words and len(verbose.words) >= len(segments),
          f"transcription verbose_json with {len(verbose.segments)} segments and {len(verbose.words or [])} words", verbose)
    check(all(word.start <= word.end for word in verbose.words) and all(
        verbose.words[i].start <= verbose.words[i + 1].start for i in range(len(verbose.words) - 1)), "word times ordered")

    try:
        client.audio.transcriptions.create(model=SPEECH_MODEL, file=(name, speech), language="fr")
        check(False, "a language the model lacks is refused", "it was accepted")
    except openai.BadRequestError as error:
        check(error.code == "unsupported" and error.param == "language", "a language the model lacks is refused, naming the field", error)

    # 413 from Content-Length, before the body is read: the answer comes
    # while most of the announced body was never sent.
    url = urllib.parse.urlparse(args.base_url)
    announced = args.max_bytes * 16
    with socket.create_connection((url.hostname, url.port), timeout=20) as connection:
        connection.sendall((f"POST {url.path}/audio/transcriptions HTTP/1.1\r\nHost: {url.hostname}\r\n"
                            f"Authorization: Bearer {args.api_key}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                            f"Content-Length: {announced}\r\n\r\n").encode() + b"\0" * 65536)
        head = connection.recv(65536).decode("latin-1")
    check(head.startswith("HTTP/1.1 413"), f"an oversize upload ({announced} bytes announced, 64 KiB sent) gets 413 unread", head[:200])
    # And through the client: an upload over the limit is refused with our code.
    try:
        client.audio.transcriptions.create(model=SPEECH_MODEL, file=("big.wav", b"\0" * (args.max_bytes + (1 << 20))))
        check(False, "oversize upload refused", "it was accepted")
    except openai.APIStatusError as error:
        check(error.status_code == 413 and error.code == "input.too_large", "the client's oversize upload gets 413 input.too_large", error)
    except openai.APIConnectionError as error:
        # The server may close before the client has sent everything.
        check(True, f"the client's oversize upload was cut off ({error.__class__.__name__})")

    # Our own /v1/classify (docs/api.md): the image's result as the inbox gives it.
    with open(args.image, "rb") as handle:
        image = handle.read()
    inbox = inbox_result(args, "openai-" + os.path.basename(args.image), image)
    answer = client.post("/classify", cast_to=object, body={"input": base64.b64encode(image).decode(), "model": "open-nsfw"})
    check(answer["object"] == "classification" and answer["result"]["labels"] == inbox["result"]["labels"], "classify equals the inbox result", answer)

    # A bad request: the OpenAI error object with our code and the field as param.
    try:
        client.chat.completions.create(model=CHAT_MODEL, messages=messages, temperature="hot")
        check(False, "a wrong type refused", "it was accepted")
    except openai.BadRequestError as error:
        check(error.code == "request.wrong_type" and error.param == "temperature", "a bad field gets 400 with our code and param", error)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
