#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's `prometheus` package, for the observability tests
# (test/observability): `promtool check rules` / `promtool test rules` on deploy/prometheus, and a
# private Prometheus that scrapes services started by the test. Idempotent: does nothing when both
# binaries are present. Never starts the system-wide Prometheus service (policy-rc.d); tests run
# their own instance with their own config, data directory and loopback port.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
if have prometheus && have promtool; then
  exit 0
fi
echo "[prometheus] installing prometheus (brings promtool)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# A Prometheus started by an earlier install without policy-rc.d would hold port 9090: stop it.
if pid=$(pidof prometheus 2>/dev/null) && [ -n "$pid" ] && [ "$(ps -o user= -p "${pid%% *}" | tr -d ' ')" = "prometheus" ]; then
  kill "${pid%% *}" 2>/dev/null || true
fi
echo "[prometheus] installed: $(prometheus --version 2>&1 | head -1)"
