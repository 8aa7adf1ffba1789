# MariaDB helpers for the bench/ shell scripts (sourced after common.sh, not run). The same set-up as
# bench/proxy-sysbench (which still has its own copies): a template data dir from mariadb-install-db, copied for each
# node, mariadbd as local processes on free ports under $TMP (--user=root when root), log_bin + row binlog +
# gtid_strict_mode, distinct server_id, replicas read_only and `CHANGE MASTER TO ... MASTER_USE_GTID = slave_pos`.
# MY_PORTS[i] / MY_CMDS[i]: node i+1 (m1 = the primary); PIDS[m<i>] is its mariadbd (stopped by stop_all_pids).

MARIADBD="${MARIADBD:-/usr/sbin/mariadbd}"
MARIADB_INSTALL_DB="${MARIADB_INSTALL_DB:-/usr/bin/mariadb-install-db}"
MARIADB="${MARIADB:-/usr/bin/mariadb}"
MY_REPL_USER=repl MY_REPL_PASSWORD=repl-pw
MY_PORTS=()
MY_CMDS=() # each node's mariadbd command line (one string; no spaces in its arguments), for a restart

# SQL as root@127.0.0.1 (created by the bootstrap: with skip_name_resolve, a TCP login from 127.0.0.1 does not
# match root@localhost). Tab-separated rows, no headers.
my_sql() { # port sql...
    local port="$1"; shift
    "$MARIADB" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u root -N -B --connect-timeout=5 -e "$*"
}

my_make_template() {
    local t="$TMP/template"
    mkdir -p "$t"
    cat >"$t/bootstrap.sql" <<EOF
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS '$MY_REPL_USER'@'%' IDENTIFIED BY '$MY_REPL_PASSWORD';
GRANT REPLICATION SLAVE ON *.* TO '$MY_REPL_USER'@'%';
EOF
    local -a cmd=("$MARIADB_INSTALL_DB" --no-defaults --datadir="$t/data" --auth-root-authentication-method=normal
        --skip-test-db --skip-name-resolve --extra-file="$t/bootstrap.sql" --innodb-log-file-size=128M
        --innodb-buffer-pool-size=64M)
    [ "$(id -u)" != 0 ] || cmd+=(--user=root)
    log "mariadb-install-db -> $t/data"
    "${cmd[@]}" >"$t/install-db.log" 2>&1 || { tail -30 "$t/install-db.log" >&2; die "mariadb-install-db failed"; }
}

# Starts mariadbd of node $1 (1-based) from MY_CMDS and waits until it answers; PIDS[m$1] = its pid.
my_start_node() {
    local n="$1" pid k port="${MY_PORTS[$(($1 - 1))]}"
    # shellcheck disable=SC2086
    ${MY_CMDS[$((n - 1))]} </dev/null >>"$TMP/m$n/stdout.log" 2>&1 &
    pid=$!
    PIDS[m$n]=$pid
    for ((k = 0; k < 1200; k++)); do
        my_sql "$port" "SELECT 1" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -30 "$TMP/m$n/mariadbd.err" >&2
    die "MariaDB node m$n did not start on port $port"
}

# my_new_node N MAX_CONNECTIONS: data dir from the template, a free port, the command line; then starts it.
# innodb_flush_log_at_trx_commit = 2 (not bench/proxy-sysbench's 0): each commit's redo reaches the OS at once, so a
# kill -9 of mariadbd loses none. With 0, a killed replica lost its last second of InnoDB commits (its
# mysql.gtid_slave_pos with them) while its own binlog (log_slave_updates) kept them, and on restart gtid_strict_mode
# stopped its SQL thread: "An attempt was made to binlog GTID 0-1-7804 which would create an out-of-order sequence
# number with existing GTID 0-1-8264" (error 1950). sync_binlog = 0 is enough for a process kill (not for a power cut).
my_new_node() {
    local n="$1" max_conn="$2" d="$TMP/m$1" port
    mkdir -p "$d/tmp"
    cp -a "$TMP/template/data" "$d/data"
    port="$(free_port)"
    MY_PORTS[n - 1]="$port"
    MY_CMDS[n - 1]="$MARIADBD --no-defaults $([ "$(id -u)" != 0 ] || echo --user=root) --datadir=$d/data
        --tmpdir=$d/tmp --socket=$d/mariadb.sock --pid-file=$d/mariadbd.pid --log-error=$d/mariadbd.err
        --port=$port --bind-address=127.0.0.1 --server-id=$n --log-bin=mariadb-bin --relay-log=relay-bin
        --log-slave-updates --binlog-format=ROW --gtid-strict-mode=ON --skip-name-resolve
        --read-only=$([ "$n" = 1 ] && echo OFF || echo ON) --innodb-buffer-pool-size=${INNODB_BUFFER_POOL:-256M}
        --innodb-log-file-size=128M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --innodb-doublewrite=0
        --performance-schema=OFF --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
        --slave-net-timeout=10 --max-connections=$max_conn --thread-cache-size=$max_conn"
    my_start_node "$n"
}

# SHOW SLAVE STATUS of the node on port $1, vertical ("Field: value" lines).
my_slave_status() {
    "$MARIADB" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$1" -u root -B --connect-timeout=5 -e "SHOW SLAVE STATUS\G"
}

# Waits until the replica on port $2 has applied GTID position $1 (at most $3 s).
my_wait_gtid() { # pos port timeout_s
    local pos="$1" port="$2" timeout="$3" i
    for ((i = 0; i < timeout; i++)); do
        [ "$(my_sql "$port" "SELECT MASTER_GTID_WAIT('$pos', 1)" 2>/dev/null)" = 0 ] && return 0
        if my_slave_status "$port" 2>/dev/null | grep -E -q 'Last_(IO|SQL)_Error: .+'; then
            my_slave_status "$port" >&2
            return 1
        fi
    done
    return 1
}

# All replicas applied everything the primary has binlogged so far.
my_wait_replicas() { # timeout_s
    local pos port
    pos="$(my_sql "${MY_PORTS[0]}" "SELECT @@gtid_binlog_pos")"
    for port in "${MY_PORTS[@]:1}"; do
        my_wait_gtid "$pos" "$port" "$1" || return 1
    done
}

# my_cluster_up REPLICAS MAX_CONNECTIONS DB DB_USER DB_PASSWORD [init command run against the primary's port]
# The user gets ALL on DB and SLAVE MONITOR (Sluice's probe reads SHOW SLAVE STATUS), mysql_native_password.
my_cluster_up() {
    local replicas="$1" max_conn="$2" db="$3" user="$4" password="$5" init="${6:-}" i p1
    my_make_template
    my_new_node 1 "$max_conn"
    p1="${MY_PORTS[0]}"
    my_sql "$p1" "CREATE DATABASE $db CHARACTER SET utf8mb4;
        CREATE USER '$user'@'%' IDENTIFIED BY '$password';
        GRANT ALL PRIVILEGES ON $db.* TO '$user'@'%';
        GRANT SLAVE MONITOR ON *.* TO '$user'@'%';"
    if [ -n "$init" ]; then
        log "$init (primary, port $p1)"
        $init "$p1" >"$TMP/init.log" 2>&1 || { cat "$TMP/init.log" >&2; die "$init failed"; }
    fi
    for ((i = 2; i <= replicas + 1; i++)); do
        my_new_node "$i" "$max_conn"
        my_sql "${MY_PORTS[i - 1]}" "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $p1,
            MASTER_USER = '$MY_REPL_USER', MASTER_PASSWORD = '$MY_REPL_PASSWORD', MASTER_USE_GTID = slave_pos,
            MASTER_CONNECT_RETRY = 1; START SLAVE"
    done
    my_wait_replicas 600 || die "the replicas did not catch up with the primary"
    log "cluster up: primary 127.0.0.1:$p1, replicas ${MY_PORTS[*]:1} (caught up to $(my_sql "$p1" "SELECT @@gtid_binlog_pos"))"
}

# kill -9 of node $1's mariadbd (a machine crash), waits until it is gone.
my_kill_node() {
    local pid="${PIDS[m$1]}"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    unset "PIDS[m$1]"
}

# Starts node $1 again with the same command line: same data dir, port and server_id; a replica resumes
# replication by itself (master.info and the crash-safe mysql.gtid_slave_pos are in its data dir).
my_restart_node() { my_start_node "$1"; }
