#!/usr/bin/env bash
# Local test infrastructure for Postline: PostgreSQL, Apache Kafka (KRaft, one node) and MinIO,
# installed from package registries only and run as plain background processes.
#
#   bash deploy/local/infra.sh up            install what is missing, start what is not running, wait until ready
#   bash deploy/local/infra.sh down [--purge] stop all three (--purge also deletes their data)
#   bash deploy/local/infra.sh status        show what runs where (exit 0 only if all three are up)
#   bash deploy/local/infra.sh env           print the export lines tests read
#
# Downloads and builds are cached in ${POSTLINE_CACHE_DIR:-$HOME/.cache/postline}; data, logs and
# pid files live in deploy/local/.run/. See docs/infrastructure.md.
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_DIR="$HERE/.run"
CACHE_DIR="${POSTLINE_CACHE_DIR:-$HOME/.cache/postline}"
READY_TIMEOUT="${POSTLINE_INFRA_TIMEOUT:-90}"

KAFKA_VERSION="${POSTLINE_KAFKA_VERSION:-4.4.0}"
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

# POSTLINE_INFRA_PORT_OFFSET shifts every port, for a second checkout's instance beside the usual one.
PORT_OFFSET="${POSTLINE_INFRA_PORT_OFFSET:-0}"
PG_PORT=$((55432 + PORT_OFFSET))
KAFKA_PORT=$((59092 + PORT_OFFSET))
KAFKA_CONTROLLER_PORT=$((59093 + PORT_OFFSET))
MINIO_PORT=$((59000 + PORT_OFFSET))
MINIO_CONSOLE_PORT=$((59001 + PORT_OFFSET))
MINIO_USER=postline
MINIO_PASSWORD=postline-secret

log() { printf '%s\n' "$*"; }
die() { printf 'infra: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_owner() {
  if command -v ss >/dev/null; then
    ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\))).*/\1/p' | head -1
  fi
}

# Alive means running: a zombie nobody has reaped yet counts as gone.
pid_alive() {
  [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null || return 1
  [[ "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" != Z ]]
}

# A pid only counts as ours if the process still runs the expected program (pids get reused).
pid_runs() {
  local pid="$1" marker="$2"
  pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$marker"
}

read_pid() {
  if [[ -f "$1" ]]; then head -1 "$1" | tr -dc '0-9'; fi
}

show_log_tail() {
  local file="$1"
  printf -- '--- last 40 lines of %s ---\n' "$file" >&2
  tail -n 40 "$file" >&2 2>/dev/null || true
  printf -- '---\n' >&2
}

# Polls `$@` until it succeeds or the readiness timeout passes; on timeout shows the log tail.
wait_ready() {
  local what="$1" logfile="$2" pid_file="$3" marker="$4"
  shift 4
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ! pid_runs "$(read_pid "$pid_file")" "$marker"; then
      show_log_tail "$logfile"
      die "$what exited during startup (log: $logfile)"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$logfile"
      die "$what not ready after ${READY_TIMEOUT}s (log: $logfile)"
    fi
    sleep 0.2
  done
}

# Refuses to start a service when something else already holds its port.
require_free_port() {
  local what="$1" port="$2"
  if port_open "$port"; then
    die "$what: port $port is already in use by another process ($(port_owner "$port")); stop it or run 'infra.sh down'"
  fi
}

stop_pid() {
  local what="$1" pid="$2" grace="$3"
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if pid_alive "$pid"; then
    log "$what did not stop within ${grace}s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do sleep 0.1; done
  fi
}

# ---------------------------------------------------------------------------------------------
# Tools

APT_UPDATED=0
apt_install() {
  [[ $(id -u) -eq 0 ]] || die "missing packages ($*) and not root: install them with apt-get install -y $*"
  if ((APT_UPDATED == 0)); then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_bin_dir() {
  local dir
  dir="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && printf '%s\n' "$dir"
}

java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1
}

find_java() {
  local candidate
  for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    if (($(java_major "$candidate" || echo 0) >= 17)); then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

# shellcheck source=deploy/local/go.sh
source "$HERE/go.sh"

# Installs every missing tool in one apt run, before the services start in parallel.
ensure_tools() {
  local missing=()
  pg_bin_dir >/dev/null || missing+=(postgresql)
  find_java >/dev/null || missing+=(openjdk-17-jre-headless)
  if [[ ! -f "$(kafka_libs_dir)/.complete" ]]; then
    command -v mvn >/dev/null || missing+=(maven)
  fi
  if [[ ! -x "$(minio_bin)" ]] && ! find_go >/dev/null; then
    command -v go >/dev/null || missing+=(golang-go)
  fi
  command -v node >/dev/null || missing+=(nodejs)
  command -v flock >/dev/null || missing+=(util-linux)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  pg_bin_dir >/dev/null || die "PostgreSQL binaries not found in /usr/lib/postgresql/*/bin after install"
  find_java >/dev/null || die "no Java >= 17 found (JAVA_HOME, PATH or /usr/lib/jvm)"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

PG_OS_USER="$(id -un)"
[[ $(id -u) -eq 0 ]] && PG_OS_USER=postgres

# From / so that the postgres user is not refused the caller's working directory.
pg_as_owner() {
  if [[ "$PG_OS_USER" == "$(id -un)" ]]; then "$@"; else (cd / && runuser -u "$PG_OS_USER" -- "$@"); fi
}

# Postgres runs as the postgres OS user when we are root; if that user cannot reach .run (a
# checkout under a private home directory), its files go to /var/lib and .run/postgres links there.
pg_base() {
  local base="$RUN_DIR/postgres"
  if [[ -L "$base" ]]; then readlink -f "$base"; return; fi
  if [[ "$PG_OS_USER" != "$(id -un)" ]] && ! runuser -u "$PG_OS_USER" -- test -x "$RUN_DIR"; then
    local elsewhere
    elsewhere="/var/lib/postline-local/$(printf '%s' "$RUN_DIR" | sha1sum | cut -c1-12)/postgres"
    mkdir -p "$elsewhere"
    ln -sfn "$elsewhere" "$base"
    printf '%s\n' "$elsewhere"
    return
  fi
  printf '%s\n' "$base"
}

pg_pid() { read_pid "$RUN_DIR/postgres/data/postmaster.pid"; }
pg_running() { pid_runs "$(pg_pid)" postgres && port_open "$PG_PORT"; }

pg_ready() { "$(pg_bin_dir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres; }

pg_up() {
  local start bin base data logfile
  start="$(now)"
  bin="$(pg_bin_dir)"
  logfile="$RUN_DIR/postgres.log"
  if pg_running; then
    log "already running (pid $(pg_pid))"
    return 0
  fi
  require_free_port PostgreSQL "$PG_PORT"
  base="$(pg_base)"
  data="$base/data"
  mkdir -p "$base/socket"
  chown "$PG_OS_USER" "$base" "$base/socket"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    log "initdb $data"
    rm -rf "$data"
    local pwfile="$base/.pwfile"
    printf 'postline\n' >"$pwfile"
    chown "$PG_OS_USER" "$pwfile"
    pg_as_owner "$bin/initdb" -D "$data" -U postline --pwfile="$pwfile" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >>"$logfile" 2>&1 ||
      { show_log_tail "$logfile"; die "initdb failed"; }
    rm -f "$pwfile"
    cat >>"$data/postgresql.conf" <<EOF

# --- deploy/local/infra.sh: a disposable instance for tests ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$base/socket'
max_connections = 300
shared_buffers = 256MB
synchronous_commit = off
max_wal_size = 2GB
checkpoint_timeout = 15min
log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  fi
  # setsid: the server must outlive this script and its process group. Without -l the server
  # writes to pg_ctl's stdout, which this (root) shell opened, so .run need not be writable by it.
  local as_owner=()
  [[ "$PG_OS_USER" != "$(id -un)" ]] && as_owner=(runuser -u "$PG_OS_USER" --)
  (cd / && setsid "${as_owner[@]}" "$bin/pg_ctl" start -D "$data" -w -t "$READY_TIMEOUT" -s \
    >>"$logfile" 2>&1 </dev/null 9>&-) || { show_log_tail "$logfile"; die "PostgreSQL did not start (log: $logfile)"; }
  wait_ready PostgreSQL "$logfile" "$data/postmaster.pid" postgres pg_ready
  if ! pg_as_owner "$bin/psql" -h "$base/socket" -p "$PG_PORT" -U postline -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'postline'" | grep -q 1; then
    pg_as_owner "$bin/createdb" -h "$base/socket" -p "$PG_PORT" -U postline postline
  fi
  log "ready in $(elapsed "$start") (pid $(pg_pid))"
}

pg_down() {
  local data="$RUN_DIR/postgres/data" pid
  pid="$(pg_pid)"
  if pid_runs "$pid" postgres; then
    pg_as_owner "$(pg_bin_dir)/pg_ctl" stop -D "$data" -m fast -t 30 -s >/dev/null 2>&1 || stop_pid PostgreSQL "$pid" 10
    log "stopped PostgreSQL"
  fi
}

# ---------------------------------------------------------------------------------------------
# Kafka

kafka_libs_dir() { printf '%s\n' "$CACHE_DIR/kafka/$KAFKA_VERSION/libs"; }
kafka_pid_file() { printf '%s\n' "$RUN_DIR/kafka.pid"; }
kafka_running() { pid_runs "$(read_pid "$(kafka_pid_file)")" kafka.Kafka && port_open "$KAFKA_PORT"; }

kafka_fetch() {
  local libs tmp
  libs="$(kafka_libs_dir)"
  [[ -f "$libs/.complete" ]] && return 0
  log "resolving Kafka $KAFKA_VERSION jars from Maven Central"
  tmp="$libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$libs")"
  mvn -B -q -f "$HERE/kafka/pom.xml" -Dmaven.repo.local="$CACHE_DIR/maven" \
    -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" dependency:copy-dependencies >"$tmp.log" 2>&1 ||
    { cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; die "mvn could not resolve kafka_2.13:$KAFKA_VERSION"; }
  rm -f "$tmp.log"
  touch "$tmp/.complete"
  rm -rf "$libs"
  mv "$tmp" "$libs"
}

# Sets KAFKA_JAVA: the JVM command line, main class and arguments to be appended.
kafka_java_cmd() {
  KAFKA_JAVA=("$(find_java)" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" -cp "$(kafka_libs_dir)/*")
}

kafka_write_config() {
  local dir="$1"
  cat >"$dir/server.properties" <<EOF
# Written by deploy/local/infra.sh: one combined broker + controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=12
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=12
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
}

kafka_up() {
  local start dir logfile pid_file
  start="$(now)"
  dir="$RUN_DIR/kafka"
  logfile="$RUN_DIR/kafka.log"
  pid_file="$(kafka_pid_file)"
  if kafka_running; then
    log "already running (pid $(read_pid "$pid_file"))"
    return 0
  fi
  require_free_port Kafka "$KAFKA_PORT"
  require_free_port "Kafka controller" "$KAFKA_CONTROLLER_PORT"
  kafka_fetch
  kafka_java_cmd
  mkdir -p "$dir"
  # Data formatted by another Kafka version is thrown away: it is test data, and downgrades fail.
  if [[ -f "$dir/version" && "$(cat "$dir/version")" != "$KAFKA_VERSION" ]]; then
    log "data was formatted by Kafka $(cat "$dir/version"); reformatting for $KAFKA_VERSION"
    rm -rf "$dir/data"
  fi
  kafka_write_config "$dir"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    [[ -f "$dir/cluster-id" ]] || head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$dir/cluster-id"
    # --cluster-id=ID, not -t ID: a URL-safe base64 id may start with "-" (1 in 64), which the
    # tool's argument parser would take for an option.
    "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format --cluster-id="$(cat "$dir/cluster-id")" \
      -c "$dir/server.properties" >>"$logfile" 2>&1 || { show_log_tail "$logfile"; die "kafka storage format failed"; }
    printf '%s\n' "$KAFKA_VERSION" >"$dir/version"
  fi
  # The wrapper writes its own pid, then becomes the JVM, so the pid file names the broker.
  rm -f "$pid_file"
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner shell
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pid_file" \
    "${KAFKA_JAVA[@]}" kafka.Kafka "$dir/server.properties" >>"$logfile" 2>&1 </dev/null 9>&- &
  local deadline=$((SECONDS + 5))
  until [[ -s "$pid_file" ]] || ((SECONDS >= deadline)); do sleep 0.05; done
  wait_ready Kafka "$logfile" "$pid_file" kafka.Kafka node "$HERE/kafka/ready.mjs" "127.0.0.1:$KAFKA_PORT"
  log "ready in $(elapsed "$start") (pid $(read_pid "$pid_file"), Kafka $KAFKA_VERSION)"
}

kafka_down() {
  local pid
  pid="$(read_pid "$(kafka_pid_file)")"
  if pid_runs "$pid" kafka.Kafka; then
    stop_pid Kafka "$pid" 60
    log "stopped Kafka"
  fi
  rm -f "$(kafka_pid_file)"
}

# ---------------------------------------------------------------------------------------------
# MinIO

minio_bin() { printf '%s\n' "$CACHE_DIR/minio/$MINIO_VERSION/minio"; }
minio_pid_file() { printf '%s\n' "$RUN_DIR/minio.pid"; }
minio_running() { pid_runs "$(read_pid "$(minio_pid_file)")" "minio server" && port_open "$MINIO_PORT"; }
minio_ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$MINIO_PORT/minio/health/live"; }

minio_build() {
  local bin go
  bin="$(minio_bin)"
  [[ -x "$bin" ]] && return 0
  local build_log="$RUN_DIR/minio-build.log"
  log "building minio $MINIO_VERSION with go install (several minutes, cached afterwards; log $build_log)"
  export GOMODCACHE="${GOMODCACHE:-$CACHE_DIR/go/mod}" GOCACHE="${GOCACHE:-$CACHE_DIR/go/build}"
  export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=auto CGO_ENABLED=0
  go="$(build_go)"
  GOBIN="$(dirname "$bin").tmp.$$" "$go" install "$MINIO_MODULE@$MINIO_VERSION" >"$build_log" 2>&1 ||
    { show_log_tail "$build_log"; die "go install $MINIO_MODULE@$MINIO_VERSION failed"; }
  mkdir -p "$(dirname "$bin")"
  mv "$(dirname "$bin").tmp.$$/minio" "$bin"
  rmdir "$(dirname "$bin").tmp.$$"
}

minio_up() {
  local start dir logfile pid_file
  start="$(now)"
  dir="$RUN_DIR/minio"
  logfile="$RUN_DIR/minio.log"
  pid_file="$(minio_pid_file)"
  if minio_running; then
    log "already running (pid $(read_pid "$pid_file"))"
    return 0
  fi
  require_free_port MinIO "$MINIO_PORT"
  require_free_port "MinIO console" "$MINIO_CONSOLE_PORT"
  minio_build
  mkdir -p "$dir/data"
  rm -f "$pid_file"
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner shell
  env MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" MINIO_UPDATE=off \
    setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pid_file" \
    "$(minio_bin)" server "$dir/data" --quiet --address "127.0.0.1:$MINIO_PORT" \
    --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" >>"$logfile" 2>&1 </dev/null 9>&- &
  local deadline=$((SECONDS + 5))
  until [[ -s "$pid_file" ]] || ((SECONDS >= deadline)); do sleep 0.05; done
  wait_ready MinIO "$logfile" "$pid_file" "minio server" minio_ready
  log "ready in $(elapsed "$start") (pid $(read_pid "$pid_file"))"
}

minio_down() {
  local pid
  pid="$(read_pid "$(minio_pid_file)")"
  if pid_runs "$pid" "minio server"; then
    stop_pid MinIO "$pid" 20
    log "stopped MinIO"
  fi
  rm -f "$(minio_pid_file)"
}

# ---------------------------------------------------------------------------------------------
# Commands

write_env() {
  cat >"$RUN_DIR/env.tmp" <<EOF
export POSTLINE_TEST_DATABASE_URL=postgres://postline:postline@127.0.0.1:$PG_PORT/postline
export POSTLINE_TEST_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export POSTLINE_TEST_S3_ENDPOINT=http://127.0.0.1:$MINIO_PORT
export POSTLINE_TEST_S3_ACCESS_KEY=$MINIO_USER
export POSTLINE_TEST_S3_SECRET_KEY=$MINIO_PASSWORD
export POSTLINE_TEST_MINIO_BIN=$(minio_bin)
EOF
  mv "$RUN_DIR/env.tmp" "$RUN_DIR/env"
}

# Runs each named function in the background with its output prefixed; fails if any failed.
run_parallel() {
  local names=() pids=() failed=()
  local fn
  for fn in "$@"; do
    (
      set -o pipefail
      "$fn" 2>&1 | sed -u "s/^/[${fn%_*}] /"
    ) &
    names+=("$fn")
    pids+=($!)
  done
  local i
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]%_*}")
  done
  ((${#failed[@]} == 0)) || die "failed: ${failed[*]}"
}

with_lock() {
  mkdir -p "$RUN_DIR"
  # fd 9 holds the lock; every server started below closes it (9>&-) so it is not held forever.
  exec 9>"$RUN_DIR/.lock"
  flock -w 1800 9 || die "another infra.sh holds $RUN_DIR/.lock"
}

cmd_up() {
  local start
  start="$(now)"
  mkdir -p "$RUN_DIR" "$CACHE_DIR"
  with_lock
  ensure_tools
  run_parallel pg_up kafka_up minio_up
  write_env
  log "infrastructure ready in $(elapsed "$start"):"
  log "  PostgreSQL  postgres://postline:postline@127.0.0.1:$PG_PORT/postline   (log .run/postgres.log)"
  log "  Kafka       127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)   (log .run/kafka.log)"
  log "  MinIO       http://127.0.0.1:$MINIO_PORT (console http://127.0.0.1:$MINIO_CONSOLE_PORT, $MINIO_USER / $MINIO_PASSWORD)   (log .run/minio.log)"
  log "  env         source $RUN_DIR/env"
}

cmd_down() {
  local purge=0
  [[ "${1:-}" == "--purge" ]] && purge=1
  [[ -d "$RUN_DIR" ]] || { log "nothing to stop"; return 0; }
  local start
  start="$(now)"
  with_lock
  run_parallel pg_down kafka_down minio_down
  if ((purge)); then
    local target
    target="$(readlink -f "$RUN_DIR/postgres" 2>/dev/null || true)"
    if [[ -L "$RUN_DIR/postgres" && -n "$target" ]]; then
      rm -rf "$target"
      rmdir "$(dirname "$target")" 2>/dev/null || true
    fi
    find "$RUN_DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
    log "deleted all data in $RUN_DIR"
  else
    rm -f "$RUN_DIR/env"
  fi
  log "down in $(elapsed "$start")"
}

cmd_status() {
  local all=0
  report() {
    local name="$1" running="$2" pid="$3" where="$4"
    if [[ "$running" == 1 ]]; then
      printf '%-11s running  pid %-8s %s\n' "$name" "$pid" "$where"
    else
      printf '%-11s stopped\n' "$name"
      all=1
    fi
  }
  report PostgreSQL "$(pg_running && echo 1 || echo 0)" "$(pg_pid)" "127.0.0.1:$PG_PORT"
  report Kafka "$(kafka_running && echo 1 || echo 0)" "$(read_pid "$(kafka_pid_file)")" "127.0.0.1:$KAFKA_PORT"
  report MinIO "$(minio_running && echo 1 || echo 0)" "$(read_pid "$(minio_pid_file)")" "http://127.0.0.1:$MINIO_PORT"
  return "$all"
}

cmd_env() {
  [[ -f "$RUN_DIR/env" ]] || die "no $RUN_DIR/env: run 'bash deploy/local/infra.sh up' first"
  cat "$RUN_DIR/env"
}

case "${1:-}" in
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
