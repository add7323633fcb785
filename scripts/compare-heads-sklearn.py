#!/usr/bin/env python3
"""Trains Quern's heads on the four reference datasets and, on the very same
features (exported by `quern train --export-features`), scikit-learn's
LogisticRegression with its defaults (C=1, lbfgs; max_iter raised so it
converges), then prints test accuracy side by side.

    vader     VADER movie sentences, MiniLM features, seeded stratified 80/20 split
    20ng      20 Newsgroups, MiniLM features, official bydate split
    fsdd      Free Spoken Digits, Whisper tiny.en encoder features, official split (index 0-4 = test)
    cifar     CIFAR-10 subset, open_nsfw pooled features, its train/test folders

scikit-learn is given the raw features (its documented default use) and, as a
second column, standardised ones (StandardScaler, as Quern's head does).
Quern's logistic head trains on the development split minus a 10%
validation split for early stopping; scikit-learn trains on all of it.

Usage: scripts/compare-heads-sklearn.py [--quern PATH] [--only vader,20ng,fsdd,cifar] [--threads 2] [--json FILE]
Runs with the reference venv's python (scikit-learn, safetensors, numpy):
    ~/.cache/quern/venv-reference/bin/python scripts/compare-heads-sklearn.py
Features are cached by Quern, so a second run only trains.
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings

import numpy as np
from safetensors.numpy import load_file
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.path.join(os.path.dirname(root), "shared", "datasets")


def fsdd_tables(folder):
    recordings = os.path.join(shared, "fsdd", "recordings")
    rows = {"train": [], "test": []}
    for name in sorted(os.listdir(recordings)):
        if not name.endswith(".wav"):
            continue
        digit, _speaker, index = name[:-4].split("_")
        split = "test" if int(index) <= 4 else "train"
        rows[split].append({"path": os.path.join(recordings, name), "label": digit})
    paths = {}
    for split, records in rows.items():
        paths[split] = os.path.join(folder, f"fsdd-{split}.jsonl")
        with open(paths[split], "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
    return paths


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quern", default=os.path.join(root, ".build", "release", "quern"))
    parser.add_argument("--only", default="vader,20ng,fsdd,cifar")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--models", default=os.environ.get("QUERN_MODELS", os.path.join(root, "models")))
    parser.add_argument("--json", help="also write the table as JSON here")
    args = parser.parse_args()

    datasets_dir = subprocess.run(["bash", os.path.join(root, "scripts", "fetch-datasets.sh")],
                                  check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    work = tempfile.mkdtemp(prefix="quern-compare-")
    fsdd = fsdd_tables(work)
    cifar = os.path.join(shared, "cifar10-subset")
    cases = {
        "vader": ([os.path.join(datasets_dir, "vader-movies.jsonl")], "MiniLM"),
        "20ng": ([os.path.join(datasets_dir, "20ng-train.jsonl"), "--test", os.path.join(datasets_dir, "20ng-test.jsonl")], "MiniLM"),
        "fsdd": ([fsdd["train"], "--test", fsdd["test"]], "Whisper tiny.en encoder"),
        "cifar": ([os.path.join(cifar, "train"), "--test", os.path.join(cifar, "test")], "open_nsfw pooled"),
    }
    table = []
    for name in args.only.split(","):
        data, features = cases[name]
        row = {"dataset": name, "features": features}
        for head in ["logistic", "mlp"]:
            export = os.path.join(work, f"{name}-{head}.safetensors")
            outcome_path = os.path.join(work, f"{name}-{head}.json")
            command = [args.quern, "train", *data, "--name", f"compare-{name}-{head}", "--output", os.path.join(work, f"head-{name}-{head}"),
                       "--head", head, "--threads", args.threads, "--models", args.models, "--json", "--export-features", export]
            started = time.time()
            with open(outcome_path, "w") as out:
                subprocess.run(command, check=True, stdout=out)
            with open(outcome_path) as f:
                outcome = json.load(f)
            row[f"quern_{head}"] = outcome["evaluation"]["accuracy"]
            row[f"quern_{head}_seconds"] = round(time.time() - started, 1)
            row[f"quern_{head}_train_seconds"] = round(outcome["training"]["seconds"], 2)
            print(f"{name} {head}: quern {outcome['evaluation']['accuracy']:.4f} "
                  f"({outcome['split']['train']} train / {outcome['split']['validation']} validation / {outcome['split']['test']} test, "
                  f"{outcome['training']['epochs_run']} epochs, {outcome['training']['seconds']:.2f} s training)", file=sys.stderr)
        tensors = load_file(export)
        x_dev, y_dev = tensors["development.features"], tensors["development.targets"].astype(int)
        x_test, y_test = tensors["test.features"], tensors["test.targets"].astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = LogisticRegression(max_iter=5000).fit(x_dev, y_dev)
            scaler = StandardScaler().fit(x_dev)
            scaled = LogisticRegression(max_iter=5000).fit(scaler.transform(x_dev), y_dev)
        row["sklearn_raw"] = float(raw.score(x_test, y_test))
        row["sklearn_standardised"] = float(scaled.score(scaler.transform(x_test), y_test))
        row["train"], row["test"], row["width"] = len(y_dev), len(y_test), int(x_dev.shape[1])
        table.append(row)
        print(json.dumps(row), file=sys.stderr)

    print(f"\n| dataset | features | dev / test | Quern logistic | scikit-learn LR (raw) | scikit-learn LR (standardised) | Quern MLP |")
    print("|---|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['dataset']} | {r['features']} ({r['width']}-d) | {r['train']} / {r['test']} | {r['quern_logistic']:.4f} | "
              f"{r['sklearn_raw']:.4f} | {r['sklearn_standardised']:.4f} | {r['quern_mlp']:.4f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
