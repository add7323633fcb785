#!/usr/bin/env bash
# Builds a release `quern` that runs on CPUs other than this one.
#
#   scripts/build-portable.sh [--target-cpu CPU] [--scratch-path DIR]
#
# The default build (swift build -c release) compiles every Swift kernel for
# the CPU that builds it (-target-cpu native): fastest here, SIGILL on an
# older CPU. This one compiles them for an instruction-set baseline instead,
# x86-64-v3 by default (AVX, AVX2, FMA, F16C, BMI1/2, LZCNT, MOVBE: Intel
# Haswell (2013) and AMD Excavator/Zen or newer). The C kernels choose AVX-512
# or AVX2 at run time either way, and OpenBLAS picks its own kernels.
#
# Other baselines: --target-cpu x86-64 (any 64-bit x86, slow kernels),
# x86-64-v2, x86-64-v4 (AVX-512), or an LLVM CPU name (haswell, znver3, …).
# QUERN_TARGET_CPU in the environment does the same.
#
# The binary refuses to start, with a message naming the missing features and
# exit status 69, on a CPU without its baseline; `quern info` prints the
# baseline it was built for. It lands in DIR/release/quern (default
# .build-portable for x86-64-v3, .build-portable-CPU for others), a scratch
# path of its own so it never mixes with the native build's objects.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

target=${QUERN_TARGET_CPU:-x86-64-v3}
scratch=""
while [ $# -gt 0 ]; do
    case $1 in
        --target-cpu) target=${2:?--target-cpu needs a CPU}; shift 2 ;;
        --scratch-path) scratch=${2:?--scratch-path needs a folder}; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-portable: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ "$target" = native ]; then
    echo "build-portable: 'native' is what swift build -c release already builds; give a baseline such as x86-64-v3" >&2
    exit 2
fi
if [ -z "$scratch" ]; then
    if [ "$target" = x86-64-v3 ]; then scratch=.build-portable; else scratch=.build-portable-$target; fi
fi

echo "build-portable: building quern for $target into $scratch" >&2
QUERN_TARGET_CPU=$target swift build -c release --product quern --scratch-path "$scratch"
binary=$scratch/release/quern
# The start-up check passes here, or this machine is below the baseline.
"$binary" info | grep '^built for:' >&2
echo "$binary"
