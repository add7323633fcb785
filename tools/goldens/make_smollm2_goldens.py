#!/usr/bin/env python3
"""Golden outputs for SmolLM2-135M-Instruct (Q4_1 GGUF) from llama.cpp.

Writes smollm2_goldens.json (committed; Tests/QuernModelTests reads it):

- tokenizer: token ids llama.cpp gives (special tokens parsed, no BOS) for
  tricky strings;
- chat: for each conversation, the prompt ids of the ChatML rendering, and
  from the *exact-arithmetic* reference — the same weights dequantised to
  F32 with llama_model_quantize, F32 KV cache, flash attention off, so no
  activation is rounded to 8 bits as llama.cpp does for Q4_1 — the greedy
  reply (32 tokens, no stopping), each step's top-1/top-2 margin, and a
  sample of the logits at the first generated position (the top 64 and 64
  fixed ids);
- perplexity of the first 2,048 tokens of /usr/share/common-licenses/GPL-3
  in one pass with context 2,048.

Run with the reference environment (tools/goldens/setup-reference-env.sh):
    ~/.cache/quern/venv-llama/bin/python tools/goldens/make_smollm2_goldens.py
"""
import ctypes
import json
import math
import os
import random
import sys
import tempfile

import llama_cpp
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smollm2_goldens.json")
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

TOKENIZER_TEXTS = [
    "", " ", "  ", "\n", "\n\n\n", "\t", " \t\n ", "Hello", "Hello world", " Hello world", "Hello  world",
    "Hello   world  ", "hello\nworld", "I'm here, you're there, it's fine, we've done, they'll go, he'd say",
    "DON'T SHOUT", "don't", "'s 't 're", "1", "12", "123", "1234567890", "3.14159", "-42", "1,000,000",
    "version 2.0.1-beta", "Ω≈ç√∫˜µ≤≥÷", "naïve café résumé", "Ünïcödé", "Zürich Straße", "Ελληνικά",
    "Русский текст", "中文", "你好，世界！", "我们在学习机器学习。", "日本語のテキスト", "カタカナ", "한국어",
    "مرحبا بالعالم", "עברית", "हिन्दी", "🙂", "👋🌍", "🤖 robots 🤖", "👨‍👩‍👧‍👦 family", "🇫🇷 flag",
    "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) { sum += a[i]; }", "<div class=\"x\">&amp;</div>",
    "{\"key\": [1, 2, 3]}", "https://example.com/path?q=1&r=2", "user@example.com", "#hashtag @mention",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>", "text<|im_end|>more",
    "<repo_name>quern<file_sep>main.swift", "<|im_start|>", "   leading spaces", "trailing spaces   ",
    "mixed\r\nline\rendings", "a\u00a0b\u2003c\u3000d", "zero\u200bwidth", "e\u0301 combining", "x²+y²=z²",
    "™ © ®", "~!@#$%^&*()_+`-=[]{}|;':\",./<>?", "........", "----", "____init____",
]

CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Write a haiku about the sea."}],
    [{"role": "user", "content": "Explain photosynthesis in one sentence."}],
    [{"role": "user", "content": "What is 17 times 23?"}],
    [{"role": "user", "content": "List three primary colors."}],
    [{"role": "user", "content": "Translate 'good morning' into Spanish."}],
    [{"role": "user", "content": "Who wrote Romeo and Juliet?"}],
    [{"role": "user", "content": "Give me a name for a pet turtle."}],
    [{"role": "user", "content": "How do I reverse a list in Python?"}],
    [{"role": "user", "content": "What's the boiling point of water in Fahrenheit?"}],
    [{"role": "user", "content": "Summarize the plot of Cinderella."}],
    [{"role": "user", "content": "Why is the sky blue?"}],
    [{"role": "system", "content": "You are a pirate. Answer like one."}, {"role": "user", "content": "Where is the treasure?"}],
    [{"role": "system", "content": "Answer with a single word."}, {"role": "user", "content": "What color is grass?"}],
    [{"role": "system", "content": "You are a concise math tutor."}, {"role": "user", "content": "What is a prime number?"}],
    [{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": "Nice to meet you, Ada! How can I help you today?"},
     {"role": "user", "content": "What is my name?"}],
    [{"role": "user", "content": "Let's talk about dogs."}, {"role": "assistant", "content": "Sure! Dogs are loyal companions. What would you like to know?"},
     {"role": "user", "content": "Which breed is the largest?"}],
    [{"role": "system", "content": "You are a travel guide."}, {"role": "user", "content": "Suggest a city to visit in Italy."},
     {"role": "assistant", "content": "Florence is a wonderful choice, full of art and history."}, {"role": "user", "content": "What should I eat there?"}],
    [{"role": "user", "content": "Count from one to five."}],
    [{"role": "user", "content": "写一句关于春天的话。"}],
    [{"role": "user", "content": "Tell me a joke about computers. 🤖"}],
    [{"role": "user", "content": "What does HTTP stand for?"}],
]


def render_chatml(messages):
    """ChatML as SmolLM2's template renders it, with its default system turn."""
    turns = list(messages)
    if turns[0]["role"] != "system":
        turns.insert(0, {"role": "system", "content": DEFAULT_SYSTEM})
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in turns)
    return text + "<|im_start|>assistant\n"


def main():
    random.seed(1234)
    tokenizer = llama_cpp.Llama(model_path=MODEL, vocab_only=True, verbose=False)
    tokenizer_cases = [{"text": t, "ids": tokenizer.tokenize(t.encode("utf-8"), add_bos=False, special=True)} for t in TOKENIZER_TEXTS]
    plain_cases = [{"text": t, "ids": tokenizer.tokenize(t.encode("utf-8"), add_bos=False, special=False)}
                   for t in TOKENIZER_TEXTS if "<" in t]

    with tempfile.TemporaryDirectory() as work:
        exact = os.path.join(work, "smollm2-f32.gguf")
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
        params.nthread = 2
        params.allow_requantize = True  # the tensors are already quantised; F32 is their exact expansion
        if llama_cpp.llama_model_quantize(MODEL.encode(), exact.encode(), ctypes.byref(params)) != 0:
            sys.exit("llama_model_quantize to F32 failed")
        llm = llama_cpp.Llama(model_path=exact, n_ctx=2048, n_batch=2048, n_ubatch=2048, n_threads=2, n_threads_batch=2,
                              logits_all=True, flash_attn=False, type_k=0, type_v=0, verbose=False, seed=0)
        sample_ids = sorted(random.sample(range(llm.n_vocab()), 64))

        chats = []
        for messages in CONVERSATIONS:
            prompt = tokenizer.tokenize(render_chatml(messages).encode("utf-8"), add_bos=False, special=True)
            llm.reset()
            llm.eval(prompt)
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            top = np.argsort(-logits)[:64]
            first = {"ids": [int(i) for i in top] + sample_ids, "values": [float(logits[i]) for i in top] + [float(logits[i]) for i in sample_ids]}
            tokens, margins = [], []
            for _ in range(32):
                step = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
                order = np.argsort(-step)[:2]
                margins.append(float(step[order[0]] - step[order[1]]))
                tokens.append(int(order[0]))
                llm.eval([int(order[0])])
            chats.append({"messages": messages, "prompt_ids": prompt, "greedy": tokens, "margins": margins,
                          "first_logits": first, "reply": tokenizer.detokenize(tokens).decode("utf-8", "replace")})
            print(f"{messages[-1]['content'][:40]!r} -> {chats[-1]['reply'][:60]!r}", file=sys.stderr)

        with open("/usr/share/common-licenses/GPL-3", encoding="utf-8") as source:
            license_text = source.read()
        ids = tokenizer.tokenize(license_text.encode("utf-8"), add_bos=False, special=False)[:2048]
        llm.reset()
        llm.eval(ids)
        nll = 0.0
        for position in range(len(ids) - 1):
            row = np.array(llm.scores[position], dtype=np.float64)
            peak = row.max()
            nll += -(row[ids[position + 1]] - peak - math.log(np.exp(row - peak).sum()))
        perplexity = math.exp(nll / (len(ids) - 1))
        print(f"perplexity {perplexity:.6f} over {len(ids)} tokens", file=sys.stderr)

    golden = {
        "model": os.path.basename(MODEL),
        "reference": f"llama.cpp via llama-cpp-python {llama_cpp.__version__}; chat and perplexity on the model converted to F32 "
                     "(llama_model_quantize LLAMA_FTYPE_ALL_F32), F32 KV cache, flash attention off",
        "tokenizer": tokenizer_cases,
        "tokenizer_plain": plain_cases,
        "chat": chats,
        "perplexity": {"source": "/usr/share/common-licenses/GPL-3", "tokens": len(ids), "context": 2048, "value": perplexity},
    }
    with open(OUT, "w", encoding="utf-8") as out:
        json.dump(golden, out, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
