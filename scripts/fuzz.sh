#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (address sanitizer + coverage) and
# runs them, one at a time, one process each.
#
#   scripts/fuzz.sh [TARGET…] [--seconds N]   campaign, N seconds per target (default 600)
#   scripts/fuzz.sh --replay [TARGET…]        every committed seed once (what CI runs)
#   scripts/fuzz.sh --list                    the targets
#   scripts/fuzz.sh --build                   build only
#
# Targets: png jpeg audio gguf safetensors onnx ctranslate2 tokenizer-json request json
# (all when none is named). A campaign's working corpus lives outside the
# repository, in $QUERN_FUZZ_HOME/corpus/<target> (default
# ~/.cache/quern/fuzz), seeded from Fuzz/Corpus/<target>; crashes, leaks,
# timeouts and out-of-memory inputs go to $QUERN_FUZZ_HOME/artifacts/<target>/,
# libFuzzer's job log to $QUERN_FUZZ_HOME/logs/<target>/fuzz-0.log.
# Reproduce one with: .build-fuzz/release/fuzz-<target> <artifact> (a replay's
# failure: .build-fuzz/debug/fuzz-<target> <seed>).
# Add a fixed crash's input to Fuzz/Corpus/<target>/ so --replay keeps it fixed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

all_targets=(png jpeg audio gguf safetensors onnx ctranslate2 tokenizer-json request json)
# Largest input per target: enough for every seed and real headers, small
# enough that the fuzzer mutates structure rather than bulk data.
declare -A max_len=(
    [png]=65536 [jpeg]=65536 [audio]=65536 [gguf]=65536 [safetensors]=16384
    [onnx]=16384 [ctranslate2]=16384 [tokenizer-json]=32768 [request]=32768 [json]=16384
)

seconds=600 mode=campaign targets=()
while (($#)); do
    case "$1" in
        --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
        --seconds=*) seconds=${1#*=}; shift ;;
        --replay) mode=replay; shift ;;
        --build) mode=build; shift ;;
        --list) printf '%s\n' "${all_targets[@]}"; exit 0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *)
            [[ -n "${max_len[$1]:-}" ]] || { echo "fuzz.sh: unknown target $1 (targets: ${all_targets[*]})" >&2; exit 2; }
            targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

# SwiftPM passes `-sanitize=address -sanitize=fuzzer` to swiftc, which keeps
# only the last one; -Xswiftc -sanitize=fuzzer,address restores ASan for the
# Swift code (C targets get both from --sanitize).
build_started=$SECONDS
# Campaigns need optimised code to mutate fast; a replay runs each seed once,
# so it takes the debug build, which compiles in ~60% of the time (CI builds
# it from scratch every run, BoringSSL included, and must stay under 10 min).
# Both are instrumented alike (ASan + coverage).
configuration=release
[[ $mode == replay ]] && configuration=debug
# One product per invocation (swift build honours only the last --product);
# after the first, the shared layers are up to date and each takes seconds.
for target in "${targets[@]}"; do
    swift build -c "$configuration" --package-path Fuzz --scratch-path "$root/.build-fuzz" \
        --sanitize fuzzer --sanitize address \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
        --product "fuzz-$target" >&2 \
        || { echo "fuzz.sh: building fuzz-$target failed" >&2; exit 1; }
done
echo "fuzz.sh: built ${#targets[@]} target(s) in $((SECONDS - build_started)) s" >&2
[[ $mode == build ]] && exit 0
bin="$root/.build-fuzz/$configuration"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/Fuzz/lsan.supp:print_suppressions=0}"
home="${QUERN_FUZZ_HOME:-$HOME/.cache/quern/fuzz}"
summary=() failed=0

for target in "${targets[@]}"; do
    seeds="$root/Fuzz/Corpus/$target"
    artifacts="$home/artifacts/$target"
    mkdir -p "$artifacts"
    log=$(mktemp "${TMPDIR:-/tmp}/quern-fuzz-$target.XXXXXX.log")
    common=(-max_len="${max_len[$target]}" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10
            -artifact_prefix="$artifacts/" -print_final_stats=1)
    status=0
    if [[ $mode == replay ]]; then
        echo "== $target: replaying $(ls "$seeds" | wc -l) seeds" >&2
        "$bin/fuzz-$target" "${common[@]}" -runs=0 "$seeds" >"$log" 2>&1 || status=$?
    else
        corpus="$home/corpus/$target"
        mkdir -p "$corpus"
        echo "== $target: ${seconds} s, corpus $corpus, artifacts $artifacts/" >&2
        # One job, one worker: the machine is shared. libFuzzer writes the
        # job's own log, fuzz-0.log, to the working directory: $home/logs/<target>.
        mkdir -p "$home/logs/$target"
        (cd "$home/logs/$target" && "$bin/fuzz-$target" "${common[@]}" -max_total_time="$seconds" -jobs=1 -workers=1 \
            -reload=0 "$corpus" "$seeds") >"$log" 2>&1 || status=$?
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    units=$(grep -oE '(DONE|INITED) +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1 | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+')
    cover=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
    crashes=$(grep -cE '^==[0-9]+==ERROR|^SUMMARY: (Address|Leak)Sanitizer|Fatal error|ALARM: working on|out-of-memory \(' "$log" || true)
    if ((status != 0)); then
        failed=1
        echo "!! $target exited $status; log: $log" >&2
        grep -E 'ERROR|SUMMARY|Fatal error|Test unit written|ALARM|out-of-memory' "$log" | head -8 >&2 || true
    else
        rm -f "$log"
    fi
    summary+=("$(printf '%-15s %10s %8s %8s %8s %8s  %s' "$target" "${runs:-?}" "${speed:-?}" "${units:-?}" "${cover:-?}" \
        "$( ((status == 0)) && echo 0 || echo "${crashes:-1}")" "$( ((status == 0)) && echo ok || echo "FAILED ($log)")")")
done

echo
printf '%-15s %10s %8s %8s %8s %8s  %s\n' target executions exec/s corpus cov crashes status
printf '%s\n' "${summary[@]}"
[[ $mode == replay ]] || echo "artifacts: $home/artifacts/<target>/   corpora: $home/corpus/<target>/"
exit $failed
