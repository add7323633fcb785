#!/usr/bin/env bash
# One command from a fresh clone to the full test suite: installs the native
# libraries and the default models the model tests read, then runs every
# test on an optimised build (model-level tests need optimised code).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/install-deps.sh
scripts/fetch-models.sh
# The pinned labelled data the default-heads reproduction test trains on.
scripts/fetch-datasets.sh >/dev/null
# Every fuzz target replays its committed corpus once (seconds; the long
# campaigns are scripts/fuzz.sh, never CI). Skipped when a filter is given.
if [ $# -eq 0 ]; then
    scripts/fuzz.sh --replay
fi
# One build of the code and the tests together: the compiler chain of the
# layers is mostly one module at a time, and the test targets fill the other
# cores while it runs. The test run then reuses it.
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
