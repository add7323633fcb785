#!/usr/bin/env bash
# One command from a fresh clone to a running daemon: installs the native
# libraries, fetches the default models, builds Quern optimised and serves
# ./inbox → ./outbox in the foreground (Ctrl-C stops it cleanly).
# Extra arguments go to `quern serve` (see `quern serve --help`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/install-deps.sh
scripts/fetch-models.sh
swift build -c release --product quern
exec .build/release/quern serve --inbox inbox --outbox outbox --models models "$@"
