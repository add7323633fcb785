#!/usr/bin/env python3
"""Text-embedding throughput: Quern against sentence-transformers on PyTorch
(and ONNX Runtime on the same weights, when it is installed), side by side in
one run, same texts, same thread count.

Measured: sentences per second for batch 1 and batch 32, on texts of about 20
and about 200 word pieces (special tokens included), with the
all-MiniLM-L6-v2 folder that scripts/fetch-models.sh installs. Each engine
gets a warm-up pass, then the best of --repeats timed passes over all texts;
tokenizing is inside the timed part for every engine. Engines alternate
pass by pass, so a burst of load elsewhere on the machine hits all of them.

Run from the reference environment (tools/goldens/setup-reference-venv.sh
--bench) on a release build:

  swift build -c release
  ~/.cache/quern/venv-reference/bin/python scripts/bench-embeddings.py

Other agents' builds on the same machine distort the numbers: run it when the
machine is quiet (the script prints the load average before and after).
"""
import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A fixed vocabulary of everyday words: the texts are random but reproducible.
WORDS = """the of and to in is was for that on with as by at from his her they this which be are
an or had not but what all were when we there can been one would their will each about how up out
them then she many some so these would other into has more two like him see time could no make than
first been its who now people my made over did down only way find use may water long little very after
words called just where most know get through back much before go good new write our used me man too
any day same right look think also around another came come work three word must because does part
even place well such here take why things help put years different away again off went old number
great tell men say small every found still between name should home big give air line set own under
read last never us left end along while might next sound below saw something thought both few those
always looked show large often together asked house world going want school important until form food
keep children feet land side without boy once animals life enough took sometimes four head above kind
began almost live page got earth need far hand high year mother light parts country father let night
following picture being study second eyes soon times story boys since white days ever paper hard near
sentence better best across during today others however sure means knew itself together felt""".split()


def load_average():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return ["?"]


def make_texts(tokenizer, target, count, seed):
    """`count` texts whose token count (with [CLS]/[SEP]) is within 10% of `target`."""
    rng = random.Random(seed)
    texts = []
    while len(texts) < count:
        words = [rng.choice(WORDS) for _ in range(rng.randint(int(target * 0.6), int(target * 1.1)))]
        text = " ".join(words).capitalize() + "."
        length = len(tokenizer(text, truncation=False)["input_ids"])
        if abs(length - target) <= 0.1 * target:
            texts.append(text)
    return texts


class SentenceTransformersEngine:
    name = "sentence-transformers"

    def __init__(self, model_dir):
        self.model = SentenceTransformer(model_dir, device="cpu")

    def run(self, texts, batch):
        self.model.encode(texts, batch_size=batch, convert_to_numpy=True)


class OnnxRuntimeEngine:
    """The same BertModel exported to ONNX; HF fast tokenizer, mean pooling
    and normalisation in NumPy, exactly what sentence-transformers computes."""

    name = "onnxruntime"

    def __init__(self, st_model, threads, path):
        import onnxruntime as ort

        bert = st_model[0].auto_model.eval()

        class Wrapper(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

        example = tuple(torch.ones(2, 8, dtype=torch.long) for _ in range(2)) + (torch.zeros(2, 8, dtype=torch.long),)
        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(Wrapper(bert), example, path, input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes})
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.tokenizer = st_model.tokenizer
        self.max_length = st_model.max_seq_length
        self.version = ort.__version__

    def encode(self, texts, batch):
        out = []
        for start in range(0, len(texts), batch):
            features = self.tokenizer(texts[start:start + batch], padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
            hidden = self.session.run(None, {k: features[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")})[0]
            mask = features["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        return np.concatenate(out)

    def run(self, texts, batch):
        self.encode(texts, batch)


class QuernEngine:
    name = "quern"

    def __init__(self, binary, model_dir, threads, precision="float32"):
        self.binary, self.model_dir, self.threads, self.precision = binary, model_dir, threads, precision

    def pass_seconds(self, path, batch):
        """One warm-up pass and one timed pass inside a fresh process."""
        command = [self.binary, "embed", "--bench", "--model", self.model_dir, "--input", path,
                   "--batch-size", str(batch), "--threads", str(self.threads), "--repeats", "1", "--precision", self.precision]
        report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        return report["seconds"]

    def embeddings(self, texts):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(texts, f)
        command = [self.binary, "embed", "--model", self.model_dir, "--input", f.name, "--threads", str(self.threads),
                   "--precision", self.precision]
        lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()
        os.unlink(f.name)
        return np.array([json.loads(line)["embedding"] for line in lines], dtype=np.float32)


def timed(engine, texts, batch):
    start = time.perf_counter()
    engine.run(texts, batch)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quern", default=os.path.join(ROOT, ".build/release/quern"))
    parser.add_argument("--model", default=os.environ.get("QUERN_MODELS", os.path.join(ROOT, "models")) + "/all-minilm-l6-v2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--texts", type=int, default=256, help="texts per length")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-onnx", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                        help="Quern's precision (the references run float32)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    print(f"load average before: {' '.join(load_average())}", flush=True)
    st = SentenceTransformersEngine(args.model)
    quern = QuernEngine(args.quern, args.model, args.threads, args.precision)
    print(f"Quern in {args.precision}; the references in float32", flush=True)
    engines = [st]
    onnx = None
    if not args.no_onnx:
        try:
            onnx = OnnxRuntimeEngine(st.model, args.threads, os.path.join(tempfile.mkdtemp(), "minilm.onnx"))
            engines.append(onnx)
        except Exception as error:  # optional: report and go on without it
            print(f"ONNX Runtime skipped: {error}", file=sys.stderr)

    workdir = tempfile.mkdtemp(prefix="quern-bench-embeddings-")
    inputs = {}
    for target in (20, 200):
        texts = make_texts(st.model.tokenizer, target, args.texts, seed=target)
        path = os.path.join(workdir, f"texts-{target}.json")
        with open(path, "w") as f:
            json.dump(texts, f)
        inputs[target] = (texts, path)
        tokens = np.mean([len(st.model.tokenizer(t)["input_ids"]) for t in texts])
        # Same inputs, same vectors: a quick agreement check before timing.
        reference = st.model.encode(texts[:16], convert_to_numpy=True)
        ours = quern.embeddings(texts[:16])
        cosine = float(np.min(np.sum(reference * ours, axis=1)))
        line = f"texts of ~{target} tokens: {len(texts)} texts, mean {tokens:.1f} tokens; min cosine quern vs sentence-transformers {cosine:.7f}"
        if onnx:
            line += f", onnxruntime vs sentence-transformers {float(np.min(np.sum(reference * onnx.encode(texts[:16], 16), axis=1))):.7f}"
        print(line, flush=True)

    results = []
    for target in (20, 200):
        texts, path = inputs[target]
        for batch in (1, 32):
            best = {}
            for engine in engines:
                engine.run(texts[:max(batch, 16)], batch)  # warm-up
            for _ in range(args.repeats):
                for engine in engines:
                    best[engine.name] = min(best.get(engine.name, float("inf")), timed(engine, texts, batch))
                best["quern"] = min(best.get("quern", float("inf")), quern.pass_seconds(path, batch))
            rates = {name: len(texts) / seconds for name, seconds in best.items()}
            row = {"tokens": target, "batch": batch, "sentences_per_second": rates,
                   "quern_vs_sentence_transformers": rates["quern"] / rates["sentence-transformers"]}
            if "onnxruntime" in rates:
                row["quern_vs_onnxruntime"] = rates["quern"] / rates["onnxruntime"]
            results.append(row)
            print(json.dumps(row), flush=True)

    print(f"load average after: {' '.join(load_average())}")
    versions = {"torch": torch.__version__, "python": platform.python_version()}
    import sentence_transformers
    versions["sentence_transformers"] = sentence_transformers.__version__
    if onnx:
        versions["onnxruntime"] = onnx.version
    print()
    header = "| texts | batch | Quern | sentence-transformers | ratio |" + (" ONNX Runtime | ratio |" if onnx else "")
    print(header)
    print("|" + "|".join(["---"] * (header.count("|") - 1)) + "|")
    for row in results:
        r = row["sentences_per_second"]
        line = f"| ~{row['tokens']} tokens | {row['batch']} | {r['quern']:.1f}/s | {r['sentence-transformers']:.1f}/s | {row['quern_vs_sentence_transformers']:.2f}× |"
        if onnx:
            line += f" {r['onnxruntime']:.1f}/s | {row['quern_vs_onnxruntime']:.2f}× |"
        print(line)
    print(f"\n{versions}, {args.threads} threads, {platform.processor() or platform.machine()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "versions": versions, "threads": args.threads}, f, indent=1)


if __name__ == "__main__":
    main()
