#!/usr/bin/env bash
# Quern vs llama.cpp on the default SmolLM2 Q4_1 GGUF, side by side in one
# run, same machine, same thread count: prompt processing of 512 tokens (pp)
# and generation of 128 tokens (tg), as llama-bench measures them; peak RSS
# of Quern's benchmark process. Then sampled against greedy generation, the
# path the daemon's defaults take: Quern's `bench llm --temperature 0.8
# --top-p 0.95` beside llama.cpp's `llama-completion` (llama-cli's completion
# mode, split off in recent llama.cpp) with the same sampler settings
# (its "eval time" line), each engine's sampled tg128 as a share of its own
# greedy tg128, in alternating rounds.
#
# llama-bench and llama-completion are built from the llama-cpp-python sdist's
# vendored llama.cpp (GGML_NATIVE, Release) into ~/.cache/quern/llama-bench,
# outside the repo.
#
# Usage: scripts/bench-llm.sh [THREADS] [REPETITIONS]   (defaults: 2, 5)
# Run on a quiet machine: nothing else building or running.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
threads=${1:-2}
repetitions=${2:-5}
model=models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf
cache=${QUERN_CACHE_DIR:-$HOME/.cache/quern}
venv=$cache/venv-llama
bench_root=$cache/llama-bench
version=0.3.36
llama_bench=$bench_root/llama_cpp_python-$version/vendor/llama.cpp/build/bin/llama-bench
llama_completion=$bench_root/llama_cpp_python-$version/vendor/llama.cpp/build/bin/llama-completion

if [ ! -x "$llama_bench" ] || [ ! -x "$llama_completion" ]; then
    echo "building llama-bench from llama-cpp-python==$version (once)" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q scikit-build-core cmake ninja
    mkdir -p "$bench_root"
    [ -d "$bench_root/llama_cpp_python-$version" ] || (cd "$bench_root" && "$venv/bin/pip" download -q --no-deps --no-binary :all: --no-build-isolation "llama-cpp-python==$version" -d . \
        && tar xzf "llama_cpp_python-$version.tar.gz")
    source_dir=$bench_root/llama_cpp_python-$version/vendor/llama.cpp
    "$venv/bin/cmake" -S "$source_dir" -B "$source_dir/build" -G Ninja -DCMAKE_MAKE_PROGRAM="$venv/bin/ninja" \
        -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=OFF >&2
    "$venv/bin/cmake" --build "$source_dir/build" --target llama-bench llama-completion -j "$(nproc)" >&2
fi

scripts/fetch-models.sh smollm2-135m-instruct >&2
# The same flags as scripts/test.sh, so the two share one build.
swift build -c release -Xswiftc -enable-testing --product quern >&2

echo "== llama.cpp (llama-bench)" >&2
llama_json=$("$llama_bench" -m "$model" -p 512 -n 128 -t "$threads" -r "$repetitions" -o json 2>/dev/null)
echo "== quern" >&2
quern_json=$(/usr/bin/time -f '%M' -o /tmp/quern-bench-llm.rss .build/release/quern bench llm --model "$model" --threads "$threads" \
    --prompt-tokens 512 --generate-tokens 128 --repetitions "$repetitions")
rss_kib=$(tail -n 1 /tmp/quern-bench-llm.rss)

python3 - "$llama_json" "$quern_json" "$rss_kib" "$model" <<'PY'
import json, os, sys
llama = json.loads(sys.argv[1]); quern = json.loads(sys.argv[2]); rss = int(sys.argv[3]) / 1024
size = os.path.getsize(sys.argv[4]) / 2**20
def llama_rate(kind):
    for test in llama:
        if (kind == "pp" and test["n_prompt"] > 0 and test["n_gen"] == 0) or (kind == "tg" and test["n_gen"] > 0 and test["n_prompt"] == 0):
            return test["avg_ts"], test["stddev_ts"]
pp, tg = llama_rate("pp"), llama_rate("tg")
q_pp, q_tg = quern["pp_tokens_per_second"], quern["tg_tokens_per_second"]
print(f"threads: {quern['threads']}")
print(f"| test | llama.cpp tok/s | Quern tok/s | Quern / llama.cpp |")
print(f"| --- | --- | --- | --- |")
print(f"| pp512 | {pp[0]:.1f} ± {pp[1]:.1f} | {q_pp['mean']:.1f} ± {q_pp['stdev']:.1f} | {q_pp['mean'] / pp[0]:.2f}x |")
print(f"| tg128 | {tg[0]:.1f} ± {tg[1]:.1f} | {q_tg['mean']:.1f} ± {q_tg['stdev']:.1f} | {q_tg['mean'] / tg[0]:.2f}x |")
print(f"Quern peak RSS {rss:.0f} MiB; GGUF file {size:.0f} MiB (limit: file + 150 MiB = {size + 150:.0f} MiB)")
PY

# Sampled against greedy: tg128 after a one-token prompt, alternating rounds.
sampler=(--top-k 40 --top-p 0.95 --min-p 0.05)
llama_rate() {  # $1: temperature; prints llama-completion's generation tokens/s
    "$llama_completion" -m "$model" -p "Once upon a time" -n 128 --ignore-eos -t "$threads" --seed 1 --temp "$1" "${sampler[@]}" \
        --repeat-penalty 1.0 2>&1 >/dev/null </dev/null | sed -n 's/.*eval time.*runs.*, *\([0-9.]*\) tokens per second.*/\1/p' | tail -n 1
}
quern_tg_rate() {  # $1: temperature; prints Quern's tg128 tokens/s (mean of the repetitions)
    .build/release/quern bench llm --model "$model" --threads "$threads" --prompt-tokens 0 --generate-tokens 128 --repetitions 2 \
        --temperature "$1" "${sampler[@]}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["tg_tokens_per_second"]["mean"])'
}
rounds=()
for round in $(seq "$repetitions"); do
    echo "== sampled vs greedy, round $round" >&2
    rounds+=("$(llama_rate 0) $(llama_rate 0.8) $(quern_tg_rate 0) $(quern_tg_rate 0.8)")
done
printf '%s\n' "${rounds[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
columns = list(zip(*rows))
def cell(values):
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values) if len(values) > 1 else 0:.1f}"
print()
print("| tg128, 1 sequence | llama.cpp (llama-completion) tok/s | Quern (bench llm) tok/s |")
print("| --- | --- | --- |")
print(f"| greedy | {cell(columns[0])} | {cell(columns[2])} |")
print(f"| sampled (T 0.8, top-k 40, top-p 0.95, min-p 0.05) | {cell(columns[1])} | {cell(columns[3])} |")
print(f"| sampled / greedy | {statistics.mean(columns[1]) / statistics.mean(columns[0]):.3f} | {statistics.mean(columns[3]) / statistics.mean(columns[2]):.3f} |")
'
