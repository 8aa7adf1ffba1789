#!/bin/sh
# Example failover-hook for Sluice (docs/failover.md): after a promotion, rejoin a *local* PostgreSQL old
# primary as a standby of the new one. Sluice runs it with `sh -c`, the event as JSON on stdin:
#   {"event":"promotion","cluster":"main","epoch":2,
#    "newPrimary":{"name":"pg2","host":"10.0.0.2","port":5432},
#    "oldPrimary":{"name":"pg1","host":"10.0.0.1","port":5432}}
# Configure:  failover-hook: "PGDATA_FOR_pg1=/var/lib/postgresql/15/main /opt/sluice/rejoin-postgres-standby.sh"
# Needs: jq, pg_ctl, pg_rewind and psql of the server's version (PG_BIN), the postgres OS user;
# wal_log_hints=on (or data checksums) on the old primary and full_page_writes=on on the new one;
# ADMIN_CONNINFO (default: REPL_CONNINFO, else "user=postgres"): a role that may CHECKPOINT and that
# pg_rewind may use on the new primary (superuser, or pg_checkpoint + the grants in pg_rewind's docs);
# REPL_CONNINFO (default: ADMIN_CONNINFO): the replication user the standby streams as ("user=repl").
# Keep passwords in ~/.pgpass (or PGPASSFILE) rather than in the hook's command line.
set -eu
event=$(cat)
old_name=$(printf '%s' "$event" | jq -r '.oldPrimary.name // empty')
new_host=$(printf '%s' "$event" | jq -r '.newPrimary.host')
new_port=$(printf '%s' "$event" | jq -r '.newPrimary.port')
[ -n "$old_name" ] || { echo "no old primary in the event: nothing to rejoin"; exit 0; }
pgdata_var="PGDATA_FOR_$(printf '%s' "$old_name" | tr -c 'A-Za-z0-9_' '_')"
pgdata=$(eval "printf '%s' \"\${$pgdata_var:-}\"")
[ -n "$pgdata" ] || { echo "old primary $old_name is not local here ($pgdata_var unset): skipping"; exit 0; }
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
admin=${ADMIN_CONNINFO:-${REPL_CONNINFO:-user=postgres}}
repl=${REPL_CONNINFO:-$admin}

# 1. stop the old primary if it is running (it is fenced read-only, but it must not keep a diverged timeline)
as_pg "$bin/pg_ctl" -D "$pgdata" -m fast -w stop || true
# 2. pg_rewind reads the new primary's timeline from its control file, and pg_promote() does not update
#    that: the checkpoint that follows a promotion does, and it is only requested, and spread. Without this
#    CHECKPOINT pg_rewind sees the old timeline on both sides, says "no rewind required", and the standby
#    never replays: "new timeline 2 forked off current database system timeline 1 before current recovery
#    point".
"$bin/psql" -X -q -v ON_ERROR_STOP=1 -d "host=$new_host port=$new_port $admin dbname=postgres" -c CHECKPOINT
# 3. rewind it onto the new primary's timeline (discards what the new primary never received). pg_rewind
#    copies the source's configuration files too: keep this node's own (port, memory, access rules).
#    Also when pg_rewind fails half-way: with the source's files the node would start on its port.
saved=$(mktemp -d)
cp -p "$pgdata"/*.conf "$saved"/ 2>/dev/null || true
restore_conf() { cp -p "$saved"/*.conf "$pgdata"/ 2>/dev/null || true; rm -rf "$saved"; }
trap restore_conf EXIT
as_pg "$bin/pg_rewind" -D "$pgdata" --source-server="host=$new_host port=$new_port $admin dbname=postgres"
restore_conf
trap - EXIT
# 4. start it as a standby of the new primary; Sluice sees it replicating and routes reads to it again
as_pg touch "$pgdata/standby.signal"
as_pg sh -c "cat >> '$pgdata/postgresql.auto.conf'" <<CONF
primary_conninfo = 'host=$new_host port=$new_port $repl'
default_transaction_read_only = off
CONF
as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/rejoin.log" -w start
echo "rejoined $old_name as a standby of $new_host:$new_port"
