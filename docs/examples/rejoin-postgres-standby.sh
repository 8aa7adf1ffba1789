#!/bin/sh
# Example failover-hook for Sluice (docs/failover.md): after a promotion, rejoin a *local* PostgreSQL old
# primary as a standby of the new one. Sluice runs it with `sh -c`, the event as JSON on stdin:
#   {"event":"promotion","cluster":"main","epoch":2,
#    "newPrimary":{"name":"pg2","host":"10.0.0.2","port":5432},
#    "oldPrimary":{"name":"pg1","host":"10.0.0.1","port":5432}}
# Configure:  failover-hook: "PGDATA_FOR_pg1=/var/lib/postgresql/15/main /opt/sluice/rejoin-postgres-standby.sh"
# Needs: jq, pg_ctl and pg_rewind of the server's version, the postgres OS user, a replication user in
# REPL_CONNINFO (e.g. "user=repl password=..."), and wal_log_hints=on or data checksums on the old primary.
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

# 1. stop the old primary if it is running (it is fenced read-only, but it must not keep a diverged timeline)
as_pg "$bin/pg_ctl" -D "$pgdata" -m fast -w stop || true
# 2. rewind it onto the new primary's timeline (discards what the new primary never received). pg_rewind
#    copies the source's configuration files too: keep this node's own (port, memory, access rules).
saved=$(mktemp -d)
cp -p "$pgdata"/*.conf "$saved"/ 2>/dev/null || true
as_pg "$bin/pg_rewind" -D "$pgdata" --source-server="host=$new_host port=$new_port ${REPL_CONNINFO:-user=postgres} dbname=postgres"
cp -p "$saved"/*.conf "$pgdata"/ 2>/dev/null || true
rm -rf "$saved"
# 3. start it as a standby of the new primary; Sluice sees it replicating and routes reads to it again
as_pg touch "$pgdata/standby.signal"
as_pg sh -c "cat >> '$pgdata/postgresql.auto.conf'" <<CONF
primary_conninfo = 'host=$new_host port=$new_port ${REPL_CONNINFO:-user=postgres}'
default_transaction_read_only = off
CONF
as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/rejoin.log" -w start
echo "rejoined $old_name as a standby of $new_host:$new_port"
