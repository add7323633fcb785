#!/usr/bin/env bash
# The portable build (scripts/build-portable.sh, x86-64-v3) against the
# native one (swift build -c release, -target-cpu native) on the LLM, ResNet
# and Whisper benchmarks, same threads, each benchmark run on both binaries
# back to back (alternating, best-of per binary), then one table:
#
#   benchmark | native | portable | portable / native
#
#   scripts/bench-portable.sh [--native BIN] [--portable BIN] [--threads N] [--rounds N] [--quick]
#
# Without --native/--portable it builds them (the native one in .build, the
# portable one in .build-portable). --quick runs tiny settings, to check the
# script works; the real comparison needs an idle machine (the load average
# is printed before and after) and the default settings: LLM pp512/tg128,
# ResNet-50 batch 1 and 8 for 5 s each, Whisper tiny.en on the speech corpus
# (tools/goldens/make-speech-corpus.sh), --rounds 3.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

native="" portable="" threads=2 rounds=3 quick=0 models=$root/models
while [ $# -gt 0 ]; do
    case $1 in
        --native) native=$2; shift 2 ;;
        --portable) portable=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --models) models=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-portable: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$native" ]; then
    swift build -c release --product quern >&2
    native=.build/release/quern
fi
if [ -z "$portable" ]; then
    portable=$(scripts/build-portable.sh | tail -1)
fi
for binary in "$native" "$portable"; do
    [ -x "$binary" ] || { echo "bench-portable: $binary is not an executable" >&2; exit 1; }
done

if [ $quick = 1 ]; then
    llm=(--prompt-tokens 32 --generate-tokens 8 --repetitions 1)
    resnet=(--batches 1 --seconds 0.5)
    whisper_repetitions=1 whisper_files=2 rounds=1
else
    llm=(--prompt-tokens 512 --generate-tokens 128 --repetitions 3)
    resnet=(--batches 1,8 --seconds 5)
    whisper_repetitions=2 whisper_files=1000
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash tools/goldens/make-speech-corpus.sh "$work/corpus" >/dev/null
mapfile -t audio < <(python3 - "$work/corpus" "$whisper_files" <<'PY'
import json, os, sys
corpus, limit = sys.argv[1], int(sys.argv[2])
manifest = json.load(open(os.path.join(corpus, "manifest.json")))
files = [os.path.join(corpus, e["file"]) for e in manifest["files"] if e["expect"] == "decodes"]
print("\n".join(files[:limit]))
PY
)

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for binary in "$native" "$portable"; do echo "$binary: $("$binary" info | grep '^built for:')" >&2; done
results=$work/results.jsonl
for round in $(seq 1 "$rounds"); do
    for which in native portable; do
        if [ $which = native ]; then binary=$native; else binary=$portable; fi
        echo "round $round: $which" >&2
        "$binary" bench llm --threads "$threads" --models "$models" "${llm[@]}" \
            | python3 -c 'import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(json.dumps({"build":sys.argv[1],"bench":"llm","pp_tokens_per_second":r["pp_tokens_per_second"]["mean"],"tg_tokens_per_second":r["tg_tokens_per_second"]["mean"]}))' $which >> "$results"
        "$binary" bench resnet --thread-counts "$threads" --models "$models" "${resnet[@]}" \
            | python3 -c 'import json,sys
for line in sys.stdin:
    if line.startswith("{"):
        r=json.loads(line); print(json.dumps({"build":sys.argv[1],"bench":"resnet","batch":r["batch"],"images_per_second":r["images_per_second"]}))' $which >> "$results"
        "$binary" transcribe --bench --threads "$threads" --repetitions "$whisper_repetitions" --models "$models" "${audio[@]}" \
            | python3 -c 'import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(json.dumps({"build":sys.argv[1],"bench":"whisper","encoder_30s_ms":r["encoder_30s_ms"],"real_time_factor":r["real_time_factor"]}))' $which >> "$results"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

portable_target=$("$portable" info | sed -n 's/^built for: \([^ ]*\).*/\1/p')
python3 - "$results" "$threads" "${#audio[@]}" "$portable_target" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
# (label, bench, key, filter, higher is better)
metrics = [
    ("LLM prompt (pp) tokens/s", "llm", "pp_tokens_per_second", None, True),
    ("LLM generation (tg) tokens/s", "llm", "tg_tokens_per_second", None, True),
]
for batch in sorted({r["batch"] for r in rows if r["bench"] == "resnet"}):
    metrics.append((f"ResNet-50 batch {batch} images/s", "resnet", "images_per_second", batch, True))
metrics += [
    ("Whisper encoder 30 s (ms)", "whisper", "encoder_30s_ms", None, False),
    (f"Whisper real-time factor ({sys.argv[3]} files)", "whisper", "real_time_factor", None, False),
]
def best(build, bench, key, batch, higher):
    values = [r[key] for r in rows if r["build"] == build and r["bench"] == bench and (batch is None or r.get("batch") == batch)]
    if not values:
        return None
    return max(values) if higher else min(values)
print(f"threads: {sys.argv[2]}; best of the rounds per build")
print(f"| benchmark | native | portable ({sys.argv[4]}) | portable / native speed |")
print(f"| --- | ---: | ---: | ---: |")
for label, bench, key, batch, higher in metrics:
    n, p = best("native", bench, key, batch, higher), best("portable", bench, key, batch, higher)
    if n is None or p is None:
        continue
    speed = p / n if higher else n / p
    print(f"| {label} | {n:.4g} | {p:.4g} | {speed:.3f} |")
PY
