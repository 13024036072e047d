#!/usr/bin/env bash
# Runs one benchmark of bench/ against the real infrastructure: scripts/bench.sh inbound [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/bench.sh NAME [ARGS...] (NAME: a folder of bench/)}"
shift
bash deploy/local/tools.sh
bash deploy/local/infra.sh up >&2
# shellcheck disable=SC1091
source deploy/local/.run/env
# Benchmarks measure what production runs: the service bundles (POSTLINE_SERVICE_RUNTIME=sources
# measures the TypeScript sources through tsx instead).
node scripts/build-dist.mjs >&2
export POSTLINE_SERVICE_RUNTIME="${POSTLINE_SERVICE_RUNTIME:-dist}"
exec node --import tsx "bench/$name/run.ts" "$@"
