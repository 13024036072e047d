#!/usr/bin/env bash
# Installs Helm for the chart checks (test/helm) and prints the path of the helm binary on stdout.
#
#   bash deploy/local/helm.sh        build Helm if missing, then print its path
#
# Helm is built from source with `go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION`: the module
# and its dependencies come from the Go module proxy (no prebuilt binary is downloaded). The binary
# and the Go module/build caches live in ${POSTLINE_CACHE_DIR:-$HOME/.cache/postline}, so the first
# run takes a few minutes and every later one returns at once. Concurrent callers (parallel test
# files) wait on a lock and reuse the one build. Progress goes to stderr, only the path to stdout.
set -Eeuo pipefail

HELM_MODULE="helm.sh/helm/v3"
HELM_VERSION="${POSTLINE_HELM_VERSION:-v3.19.5}"
CACHE_DIR="${POSTLINE_CACHE_DIR:-$HOME/.cache/postline}"
HELM_DIR="$CACHE_DIR/helm/$HELM_VERSION"
HELM_BIN="$HELM_DIR/helm"

log() { printf 'helm.sh: %s\n' "$*" >&2; }
die() { printf 'helm.sh: %s\n' "$*" >&2; exit 1; }

if [[ -x "$HELM_BIN" ]]; then
  printf '%s\n' "$HELM_BIN"
  exit 0
fi

# shellcheck source=deploy/local/go.sh
source "$(dirname "${BASH_SOURCE[0]}")/go.sh"

mkdir -p "$HELM_DIR"
exec 9>"$HELM_DIR.lock"
command -v flock >/dev/null || die "flock not found (Debian package util-linux)"
flock 9
# Another caller may have finished the build while we waited for the lock.
if [[ -x "$HELM_BIN" ]]; then
  printf '%s\n' "$HELM_BIN"
  exit 0
fi

export GOMODCACHE="${GOMODCACHE:-$CACHE_DIR/go/mod}" GOCACHE="${GOCACHE:-$CACHE_DIR/go/build}"
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=auto CGO_ENABLED=0
go="$(build_go)"
tmp="$HELM_DIR/.tmp.$$"
build_log="$HELM_DIR/build.log"
rm -rf "$tmp"
mkdir -p "$tmp"
log "building $HELM_MODULE/cmd/helm@$HELM_VERSION with go install (a few minutes, cached afterwards; log $build_log)"
start=$SECONDS
# Like Helm's Makefile: the Kubernetes version that `helm template` and `helm lint` assume is the
# one of the client-go it is built with (v0.34.x -> 1.34), not the compiled-in fallback 1.20.
mod_dir="$("$go" mod download -json "$HELM_MODULE@$HELM_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
k8s_minor="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$mod_dir/go.mod" | head -1)"
[[ -n "$k8s_minor" ]] || die "could not read the client-go version from $mod_dir/go.mod"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
if ! GOBIN="$tmp" "$go" install -trimpath -ldflags "$ldflags" "$HELM_MODULE/cmd/helm@$HELM_VERSION" >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  rm -rf "$tmp"
  die "go install $HELM_MODULE/cmd/helm@$HELM_VERSION failed (log $build_log)"
fi
mv "$tmp/helm" "$HELM_BIN"
rmdir "$tmp"
log "built $HELM_BIN in $((SECONDS - start))s"
printf '%s\n' "$HELM_BIN"
