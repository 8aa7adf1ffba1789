# Shared helpers for the bench/ shell scripts (sourced, not run). Written for bench/soak; bench/proxy-pgbench
# still carries its own copies of the same functions (moving it over is a follow-up).
#
# The sourcing script sets BENCH_NAME (for log lines) before sourcing, and TMP (a temp dir owned by postgres)
# before calling the PostgreSQL helpers. Processes it starts go into PIDS[name]=pid (stopped by stop_all_pids).

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

exec 3>&2 # the terminal's stderr, for log() also while a command's output is redirected (traps run inside those)
log() { echo "[${BENCH_NAME:-bench} $(date +%H:%M:%S)] $*" >&3; }
die() { log "ERROR: $*"; exit 1; }

# Runs a command as the postgres user; setpriv execs it, so "${AS_PG[@]}" cmd & gives the server's own pid in $!.
AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)
as_pg() { "${AS_PG[@]}" "$@"; }

declare -A PIDS=()        # name -> pid of a process we started (not PostgreSQL: pg_ctl detaches those)
declare -A USED_PORTS=()

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 20000))
        [ -z "${USED_PORTS[$p]:-}" ] || continue
        if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
            USED_PORTS[$p]=1
            echo "$p"
            return
        fi
    done
}

# All pids in the tree rooted at $1 (itself included).
tree_pids() {
    local root="$1"
    ps -e -o pid=,ppid= | awk -v root="$root" '
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            keep[root] = 1; changed = 1
            while (changed) { changed = 0
                for (i in pids) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } } }
            for (p in keep) print p
        }'
}

# TERM, then KILL after 5 s, the process tree rooted at pid $2 (named $1 in the log).
stop_tree() {
    local name="$1" pid="$2" pids i
    kill -0 "$pid" 2>/dev/null || return 0
    pids="$(tree_pids "$pid" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "stopped $name"
}

stop_all_pids() {
    local name
    for name in "${!PIDS[@]}"; do
        stop_tree "$name" "${PIDS[$name]}"
    done
}

# VmRSS in kB summed over the process tree rooted at $1.
rss_kb() {
    local total=0 pid kb
    for pid in $(tree_pids "$1"); do
        kb="$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" || continue
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

machine_info() {
    echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "nproc:     $(nproc)"
    echo "cpu:       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory:    $(free -h | awk '/^Mem:/ { print $2 " total, " $7 " available" }'), swap $(free -h | awk '/^Swap:/ { print $2 }')"
    echo "load:      $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "commit:    $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo n/a)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
    echo "java:      $(java -version 2>&1 | head -1)"
}

# ------------------------------------------------------------------------------------------------ PostgreSQL
# A throw-away primary + streaming replicas under $TMP/pg1, pg2, ... on free ports (servers as the postgres user,
# trust auth on 127.0.0.1). PG_DATADIRS[i] / PG_PORTS[i]: node i+1 (pg1 = the primary).
PG_DATADIRS=()
PG_PORTS=()

pg_sql() { # port user db sql...
    local port="$1" user="$2" db="$3"; shift 3
    "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$user" -d "$db" -c "$*"
}

# Waits until something accepts PostgreSQL connections on $1 (any answer counts), while pid $2 (if given) lives.
pg_wait_port() {
    local port="$1" pid="${2:-}" timeout="${3:-60}" i
    for ((i = 0; i < timeout * 5; i++)); do
        if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
            return 0
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.2
    done
    return 1
}

pg_start_node() { # datadir port
    local d="$1" port="$2"
    printf "port = %s\ncluster_name = '%s'\n" "$port" "$(basename "$d")" >"$d/node.conf"
    chown postgres: "$d/node.conf"
    as_pg "$PGBIN/pg_ctl" -D "$d" -l "$TMP/$(basename "$d").log" -w -t 120 -s start \
        || { tail -20 "$TMP/$(basename "$d").log" >&2; die "PostgreSQL node $(basename "$d") did not start"; }
}

# pg_cluster_up REPLICAS MAX_CONNECTIONS DB DB_USER DB_PASSWORD [init command run against the primary's port]
pg_cluster_up() {
    local replicas="$1" max_conn="$2" db="$3" user="$4" password="$5" init="${6:-}" d p1 i port target ok
    mkdir -p "$TMP/sock" && chown postgres: "$TMP/sock"
    d="$TMP/pg1"
    log "initdb $d"
    as_pg "$PGBIN/initdb" -D "$d" -U postgres -A trust -E UTF8 --no-locale --no-sync --no-instructions >"$TMP/initdb.log"
    cat >>"$d/postgresql.conf" <<EOF

# ---- ${BENCH_NAME:-bench} ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$TMP/sock'
max_connections = $max_conn
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
max_wal_size = 1GB
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
logging_collector = off
include_if_exists = 'node.conf'
EOF
    cat >"$d/pg_hba.conf" <<EOF
local all all trust
local replication all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
    p1="$(free_port)"
    PG_DATADIRS+=("$d"); PG_PORTS+=("$p1")
    pg_start_node "$d" "$p1"
    pg_sql "$p1" postgres postgres "CREATE ROLE $user LOGIN PASSWORD '$password'" >/dev/null
    pg_sql "$p1" postgres postgres "CREATE DATABASE $db OWNER $user" >/dev/null
    if [ -n "$init" ]; then
        log "$init (primary, port $p1)"
        $init "$p1" >"$TMP/init.log" 2>&1 || { cat "$TMP/init.log" >&2; die "$init failed"; }
    fi
    for ((i = 2; i <= replicas + 1; i++)); do
        d="$TMP/pg$i"
        log "pg_basebackup -> $d"
        as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$d" -R -C -S "replica$i" -X stream \
            -c fast --no-sync --no-manifest
        PG_DATADIRS+=("$d"); PG_PORTS+=("$(free_port)")
        pg_start_node "$d" "${PG_PORTS[-1]}"
    done
    # Replicas caught up: replay position >= the primary's current WAL position.
    target="$(pg_sql "$p1" postgres postgres "SELECT pg_current_wal_lsn()")"
    for ((i = 0; i < 600; i++)); do
        ok=1
        for port in "${PG_PORTS[@]:1}"; do
            [ "$(pg_sql "$port" postgres postgres "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" = t ] || ok=0
        done
        ((ok)) && break
        sleep 0.2
    done
    ((ok)) || die "replicas did not catch up with $target"
    log "cluster up: primary 127.0.0.1:$p1, replicas ${PG_PORTS[*]:1} (caught up to $target)"
}

# kill -9 of node $1 (1-based) and every process of it (postmaster and backends: a machine crash), waits until gone.
pg_kill_node() {
    local d="${PG_DATADIRS[$(($1 - 1))]}" pid pids i
    pid="$(head -1 "$d/postmaster.pid")"
    pids="$(tree_pids "$pid" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -KILL $pids
    for ((i = 0; i < 100; i++)); do
        # shellcheck disable=SC2086
        kill -0 $pids 2>/dev/null || return 0
        sleep 0.1
    done
    die "node pg$1 still running 10 s after kill -9"
}

# Starts node $1 again on its port (a replica rejoins as a replica: its standby.signal is still there).
pg_restart_node() {
    pg_start_node "${PG_DATADIRS[$(($1 - 1))]}" "${PG_PORTS[$(($1 - 1))]}"
}

pg_stop_all() {
    local d
    for d in "${PG_DATADIRS[@]}"; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -s -w stop >/dev/null 2>&1
    done
    return 0
}

# ------------------------------------------------------------------------------------------------ Sluice
# Builds the proxy jar and its runtime classpath in the work tree (Maven package, no install) and sets SLUICE_CP.
sluice_build() {
    log "building the proxy (mvn package -pl proxy-server -am, tests skipped)"
    (cd "$ROOT" && mvn -q -B -pl proxy-server -am -DskipTests package dependency:build-classpath \
        -Dmdep.includeScope=runtime -Dmdep.outputFile=target/runtime-classpath.txt) >"$TMP/build.log" 2>&1 \
        || { tail -30 "$TMP/build.log" >&2; die "build failed"; }
    SLUICE_CP="$ROOT/proxy-server/target/proxy-server-0.1.0-SNAPSHOT.jar:$(cat "$ROOT/proxy-server/target/runtime-classpath.txt")"
}
