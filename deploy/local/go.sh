# shellcheck shell=bash
# Sourced by infra.sh (MinIO) and helm.sh (Helm): a Go >= 1.21 to `go install` with. The caller
# defines log and die. Without one on the machine (Debian 12's golang-go is 1.19), the toolchain is
# itself fetched from the Go module proxy as the module golang.org/toolchain, which is what
# GOTOOLCHAIN=auto does in newer Go.

GO_TOOLCHAIN_FALLBACK="${GO_TOOLCHAIN_FALLBACK:-go1.24.8}"

go_minor() {
  "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'
}

find_go() {
  local candidate
  for candidate in "$(command -v go || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    if (($(go_minor "$candidate" || echo 0) >= 21)); then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

# Prints the path of a Go >= 1.21, installing Debian's golang-go (to bootstrap) when there is no Go.
build_go() {
  local go
  if go="$(find_go)"; then
    printf '%s\n' "$go"
    return
  fi
  if ! command -v go >/dev/null; then
    [[ $(id -u) -eq 0 ]] || die "no Go found; install golang-go"
    log "installing golang-go from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go >&2
  fi
  local mod dir
  mod="golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN_FALLBACK.linux-$(dpkg --print-architecture)"
  dir="$(GOFLAGS=-modcacherw go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" && -f "$dir/bin/go" ]] || die "could not fetch $mod from the Go module proxy"
  chmod -R u+x "$dir/bin" "$dir/pkg/tool"
  printf '%s\n' "$dir/bin/go"
}
