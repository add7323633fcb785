#!/usr/bin/env bash
# Trains Quern's default heads from data pinned by version and sha256
# (scripts/fetch-datasets.sh) and writes them to heads/ in the repository,
# where they are committed (kilobytes); scripts/fetch-models.sh installs them
# into models/heads/.
#
#   sentiment-en   VADER's movie-review sentences, positive/negative by the
#                  sign of the human rating, seeded stratified 80/20 split
#   topics-20ng    20 Newsgroups, official bydate train/test split
#
# Both are logistic heads on all-MiniLM-L6-v2 sentence embeddings (the
# mean of windows over a long text, as the daemon embeds a dropped file),
# trained with the defaults of `quern train`, seed 0, on 2 threads.
#
# Usage: scripts/train-default-heads.sh [--check] [NAME ...]
#   --check   train into a temporary folder and compare with the committed
#             heads: the same classes, feature model, training data sha256 and
#             test accuracy within 0.5 points (weights can differ in their
#             last bits when features were computed in other batches).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
check=false
names=()
for argument in "$@"; do
    case "$argument" in
        --check) check=true ;;
        *) names+=("$argument") ;;
    esac
done
[ ${#names[@]} -eq 0 ] && names=(sentiment-en topics-20ng)

quern=${QUERN_BINARY:-$root/.build/release/quern}
if [ ! -x "$quern" ]; then swift build -c release --product quern >&2; fi
datasets=$(scripts/fetch-datasets.sh | tail -n 1)
models=${QUERN_MODELS:-$root/models}
output="$root/heads"
if $check; then output=$(mktemp -d); trap 'rm -rf "$output"' EXIT; fi

for name in "${names[@]}"; do
    case "$name" in
        sentiment-en) data=("$datasets/vader-movies.jsonl") ;;
        topics-20ng) data=("$datasets/20ng-train.jsonl" --test "$datasets/20ng-test.jsonl") ;;
        *) echo "train-default-heads: unknown head $name (sentiment-en, topics-20ng)" >&2; exit 2 ;;
    esac
    "$quern" train "${data[@]}" --name "$name" --output "$output/$name" --models "$models" --threads 2 --seed 0 >&2
    if $check; then
        python3 - "$root/heads/$name/head.json" "$output/$name/head.json" <<'PY'
import json, sys
committed, fresh = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("classes", "architecture", "hyper_parameters", "feature_model", "training_data"):
    if committed[key] != fresh[key]:
        sys.exit(f"{committed['name']}: {key} differs: {committed[key]} vs {fresh[key]}")
a, b = committed["metrics"]["test"]["accuracy"], fresh["metrics"]["test"]["accuracy"]
if abs(a - b) > 0.005:
    sys.exit(f"{committed['name']}: test accuracy {b:.4f}, committed {a:.4f}")
print(f"{committed['name']}: reproduced (test accuracy {b:.4f}, committed {a:.4f})")
PY
    fi
done
