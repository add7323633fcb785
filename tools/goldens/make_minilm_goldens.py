#!/usr/bin/env python3
"""Goldens for Quern's text embeddings: sentence-transformers on PyTorch (CPU)
with the all-MiniLM-L6-v2 folder that scripts/fetch-models.sh installs.

Writes Tests/QuernModelTests/Embeddings/Goldens/minilm-goldens.json:
  texts[i].text        the input
  texts[i].ids         the reference tokenizer's ids, [CLS] ... [SEP], NOT truncated
  texts[i].embedding   sentence-transformers' embedding (it truncates at
                       max_seq_length = 256 tokens), float16 little-endian, base64
  texts[i].windows     for texts over 256 tokens: Quern's windowing rule done
                       here in Python (consecutive 254-piece windows, each
                       wrapped in [CLS] ... [SEP] and run through the same
                       sentence-transformers modules), float16 base64 each
  texts[i].mean        normalize(mean(windows)), float16 base64
float16 keeps every vector within ~1e-7 of its float32 cosine, which is far
below the 0.99999 the tests ask for, and keeps the file small.

Run it in the reference environment (tools/goldens/setup-reference-venv.sh):
  ~/.cache/quern/venv-reference/bin/python tools/goldens/make_minilm_goldens.py
"""
import base64
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import sentence_transformers  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.environ.get("QUERN_MODELS", os.path.join(ROOT, "models")) + "/all-minilm-l6-v2"
OUT = os.path.join(ROOT, "Tests/QuernModelTests/Embeddings/Goldens/minilm-goldens.json")

LONG_ENGLISH = " ".join(
    f"Paragraph {i}: the quick brown fox jumps over the lazy dog while counting {i * 7} sheep near the riverbank."
    for i in range(1, 31)
)
LONG_MIXED = ("Die Straße führt über die Brücke. 東京は日本の首都です。 " * 25).strip()

TEXTS = [
    # English
    "This is a sentence.",
    "The cat sat on the mat.",
    "A man is playing a guitar on the street corner.",
    "How do I reset my password if I no longer have access to my email?",
    "Sentence embeddings map text to dense vectors for semantic search and clustering.",
    "I can't believe it's already December; where did the year go?!",
    "UPPERCASE TEXT SHOULD BE LOWERED BEFORE WORDPIECE.",
    "unbelievably antidisestablishmentarianism supercalifragilisticexpialidocious",
    "Numbers: 3.14159, 2,718, 1e-12, -42 and 100%.",
    "Email me at someone@example.com or visit https://example.org/path?q=1&r=2#frag",
    "def embed(texts: list[str]) -> np.ndarray: return model.encode(texts)",
    "Tabs\tand\nnewlines\r\nand   multiple    spaces",
    "   leading and trailing whitespace   ",
    # empty and whitespace
    "",
    " \t\n ",
    # special tokens typed in the text
    "[CLS] typed in the text is a special token",
    "Hello [SEP] world [MASK] and [PAD] and [UNK]",
    "lowercase [cls] is not special, nor is [ CLS ]",
    "[CLS][SEP][CLS]",
    # accents and other Latin
    "Café, naïve, résumé, façade, jalapeño, Ångström, Øresund",
    "Die Straße führt über die Brücke nach Köln.",
    "Tiếng Việt có nhiều dấu thanh: à á ả ã ạ",
    "İstanbul, ǅemal, ﬁnance, Æsir",
    # other scripts
    "ΣΊΣΥΦΟΣ και η πέτρα του",
    "Привет, как дела? Всё хорошо.",
    "مرحبا بالعالم، كيف حالك؟",
    "שלום עולם",
    "สวัสดีครับ ยินดีต้อนรับ",
    "नमस्ते दुनिया, आप कैसे हैं?",
    "안녕하세요 세계",
    # CJK and kana
    "我爱自然语言处理。今天天气很好！",
    "日本語のテキスト、ひらがなとカタカナ。",
    "ひらがなだけのぶん",
    "カタカナダケノブン",
    "東京タワーは333メートルです",
    "𠀀𪜀 rare CJK extension ideographs 𫠠𫤠",
    # emoji and symbols
    "I love pizza 🍕🍕 so much 😀!",
    "Family: 👨‍👩‍👧‍👦, thumbs 👍🏽, flag 🇯🇵, new emoji 🫠🥲",
    "Math: ∑ x² ≤ ∞, arrows → ⇒, currency € £ ¥ ₿",
    "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ and ①②③",
    # control, zero-width and odd characters
    "zero\u200bwidth\u200djoiner\ufeffbom and soft\u00adhyphen",
    "control\u0000chars\u0007and\u0085next line\ufffdreplacement",
    "Combining: e\u0301 a\u0308 n\u0303 and new marks a\u1ac1b x\u2e52y \u166d",
    "private use \ue000\ue001 and unassigned \u0378 here",
    # length edge cases
    "a" * 101,
    "word " * 254,
    "word " * 255,
    LONG_ENGLISH,
    LONG_MIXED,
]


def f16(vector):
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def main():
    torch.set_num_threads(1)
    model = SentenceTransformer(MODEL, device="cpu")
    model.eval()
    tokenizer = model.tokenizer
    max_len = model.max_seq_length
    assert max_len == 256, max_len
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id

    def run_windows(windows):
        embeddings = []
        for ids in windows:
            features = {
                "input_ids": torch.tensor([ids]),
                "attention_mask": torch.ones(1, len(ids), dtype=torch.long),
                "token_type_ids": torch.zeros(1, len(ids), dtype=torch.long),
            }
            with torch.no_grad():
                embeddings.append(model(features)["sentence_embedding"][0].numpy())
        return embeddings

    reference = model.encode(TEXTS, batch_size=1, convert_to_numpy=True)
    entries = []
    for text, embedding in zip(TEXTS, reference):
        ids = tokenizer(text.strip(), add_special_tokens=True, truncation=False)["input_ids"]
        entry = {"text": text, "ids": ids, "embedding": f16(embedding)}
        pieces = ids[1:-1]
        if len(ids) > max_len:
            step = max_len - 2
            windows = [[cls_id] + pieces[i:i + step] + [sep_id] for i in range(0, len(pieces), step)]
            vectors = run_windows(windows)
            first = vectors[0]
            assert np.abs(first - embedding).max() < 1e-5, "window 0 must be what sentence-transformers embeds"
            mean = np.mean(vectors, axis=0)
            mean = mean / max(np.linalg.norm(mean), 1e-12)
            entry["windows"] = [f16(v) for v in vectors]
            entry["mean"] = f16(mean)
        entries.append(entry)

    document = {
        "model": "all-minilm-l6-v2",
        "generator": "tools/goldens/make_minilm_goldens.py",
        "max_seq_length": max_len,
        "dimensions": int(reference.shape[1]),
        "encoding": "float16 little-endian, base64",
        "versions": reference_versions(),
    }
    write_one_text_per_line(OUT, document, entries)


def reference_versions():
    """The reference environment, recorded in every golden file."""
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }


def write_one_text_per_line(path, document, texts):
    """`document` with `texts` as its last member, one text per line:
    readable diffs, no per-number newlines."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    head = json.dumps(document, ensure_ascii=False, separators=(",", ":"))[:-1]
    body = ",\n".join(json.dumps(t, ensure_ascii=False, separators=(",", ":")) for t in texts)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + ',"texts":[\n' + body + "\n]}\n")
    print(f"wrote {path}: {len(texts)} texts, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
