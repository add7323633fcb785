#!/usr/bin/env python3
"""Dumps what the reference BERT normaliser and pre-tokeniser (Hugging Face
`tokenizers`, from all-MiniLM-L6-v2's tokenizer.json) do to every code point,
for Tests/QuernModelTests/Tokenizers/UnicodeSweepTests.swift.

For each code point c it runs "a" + c + "b" through both stages and records
the normalised text and the words, leaving out code points that come through
unchanged as one word. The output is ~10 MB, so it is not committed:

  ~/.cache/quern/venv-reference/bin/python tools/goldens/dump_bert_unicode.py /tmp/bert-unicode.json
  QUERN_BERT_UNICODE_DUMP=/tmp/bert-unicode.json swift test ... --filter UnicodeSweep
"""
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
with open(sys.argv[1] if len(sys.argv) > 1 else "bert-unicode.json", "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False)
print(f"{len(out)} code points changed")
