#!/usr/bin/env python3
"""Dumps what the reference BERT normaliser and pre-tokeniser (Hugging Face
`tokenizers`, from all-MiniLM-L6-v2's tokenizer.json) do to every code point,
for Tests/QuernModelTests/Tokenizers/UnicodeSweepTests.swift.

For each code point c it runs "a" + c + "b" through both stages and records
the normalised text and the words, leaving out code points that come through
unchanged as one word. The table is ~8 MB of JSON, committed gzipped (~1 MB,
written reproducibly: no timestamp in the gzip header):

  ~/.cache/quern/venv-reference/bin/python tools/goldens/dump_bert_unicode.py
"""
import gzip
import json
import os
import sys

from tokenizers import Tokenizer

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
model = os.environ.get("QUERN_MODELS", os.path.join(root, "models")) + "/all-minilm-l6-v2/tokenizer.json"
tokenizer = Tokenizer.from_file(model)
normalizer, pre_tokenizer = tokenizer.normalizer, tokenizer.pre_tokenizer
out = {}
for cp in range(0x110000):
    if 0xD800 <= cp < 0xE000:
        continue
    text = "a" + chr(cp) + "b"
    normalized = normalizer.normalize_str(text)
    words = [w for w, _ in pre_tokenizer.pre_tokenize_str(normalized)]
    if normalized != text or words != [text]:
        out[cp] = [normalized, words]
default = os.path.join(root, "Tests/QuernModelTests/Tokenizers/Goldens/bert-unicode.json.gz")
path = sys.argv[1] if len(sys.argv) > 1 else default
text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as f:
    f.write(text.encode("utf-8"))
print(f"{len(out)} code points changed")
