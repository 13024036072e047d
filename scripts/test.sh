#!/usr/bin/env bash
# The whole test suite: brings up the real infrastructure (PostgreSQL, Kafka, MinIO; installed and
# cached on first use), then runs every test file with node's test runner.
#   scripts/test.sh            all tests
#   scripts/test.sh FILE...    only these test files (infrastructure still brought up)
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/local/tools.sh
# Helm (built with go install: minutes the first time, cached after) and Prometheus with promtool,
# before any test file starts, so no file spends its timeout on an install.
bash deploy/local/helm.sh >/dev/null
bash deploy/local/prometheus.sh >/dev/null
bash deploy/local/infra.sh up
# shellcheck disable=SC1091
source deploy/local/.run/env
# The production bundles (dist/bin/), which test/e2e/dist-bundles.test.ts runs.
node scripts/build-dist.mjs

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find libs services test -name node_modules -prune -o -name '*.test.ts' -print | sort)
fi

# Most suites wait on I/O (databases, brokers, child processes), so run several files at once.
exec node --import tsx --test --test-concurrency="${POSTLINE_TEST_CONCURRENCY:-4}" --test-timeout=600000 "${files[@]}"
