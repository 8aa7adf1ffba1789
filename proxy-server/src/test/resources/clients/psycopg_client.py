"""psycopg2 (libpq underneath) through the Sluice proxy.

Prints one "label value" line per fact; PsycopgIT parses them and decides what is right (which node ran
what). Connection string comes from SLUICE_DSN, the password from PGPASSWORD. Any exception exits non-zero
with the traceback on stderr.
"""
import io
import os
import sys
import time

import psycopg2
import psycopg2.extensions

DEADLINE_S = 30


def out(label, value):
    print(label, value, flush=True)


def port(cur):
    cur.execute("SELECT inet_server_port()")
    return cur.fetchone()[0]


conn = psycopg2.connect(os.environ["SLUICE_DSN"])
out("scram", conn.get_dsn_parameters().get("user"))
out("server_version", conn.server_version)

# --- autocommit: every statement routed by itself ---
conn.autocommit = True
cur = conn.cursor()
cur.execute("DROP TABLE IF EXISTS t_psycopg")
cur.execute("CREATE TABLE t_psycopg (id int PRIMARY KEY, name text, amount numeric, port int)")
for i in range(1, 6):
    # client-side parameter interpolation; the INSERT reports the node it ran on
    cur.execute("INSERT INTO t_psycopg VALUES (%s, %s, %s, inet_server_port()) RETURNING port",
                (i, "name-%d 'quoted' ü" % i, i * 1.5))
    out("insert_port", cur.fetchone()[0])

# autocommit reads go to replicas and replication is asynchronous: a replica may not have replayed the rows (or
# even the CREATE TABLE) yet. Each replica-read of data is therefore polled, with a deadline, until it is right;
# the reads are balanced over the replicas, so each node is asked in turn.
def eventually(sql, params, ok):
    deadline = time.monotonic() + DEADLINE_S
    last = None
    while True:
        try:
            cur.execute(sql, params)
            last = cur.fetchall()
            if ok(last):
                return last
        except psycopg2.errors.UndefinedTable as e:
            last = e
        if time.monotonic() > deadline:
            raise SystemExit("never got the expected result of %s: last %r" % (sql, last))
        time.sleep(0.1)


for _ in range(4):
    eventually("SELECT count(*) FROM t_psycopg", None, lambda rows: rows[0][0] == 5)
for _ in range(4):
    out("autocommit_read_port", port(cur))
row = eventually("SELECT id, name, amount FROM t_psycopg WHERE id = %s", (3,), lambda rows: len(rows) == 1)[0]
out("row3", "%d|%s|%s" % (row[0], row[1], row[2]))

# --- a transaction (psycopg2's default: BEGIN before the first statement): all on the primary ---
conn.autocommit = False
cur = conn.cursor()
out("tx_read_port", port(cur))
cur.execute("UPDATE t_psycopg SET amount = amount + 100, port = inet_server_port() WHERE id = %s RETURNING port", (1,))
out("tx_update_port", cur.fetchone()[0])
cur.execute("SELECT amount FROM t_psycopg WHERE id = 1")
out("tx_sees_own_write", cur.fetchone()[0])
conn.commit()

# a rolled-back transaction leaves nothing behind (checked on the primary in the next transaction)
cur.execute("INSERT INTO t_psycopg VALUES (99, 'rolled back', 0, inet_server_port())")
conn.rollback()
cur.execute("SELECT count(*) FROM t_psycopg WHERE id = 99")
out("rolled_back_rows", cur.fetchone()[0])
conn.commit()

# a read-only transaction may run on a replica
conn.set_session(readonly=True)
cur.execute("SELECT inet_server_port()")
out("readonly_tx_port", cur.fetchone()[0])
conn.commit()
conn.set_session(readonly=False)

# --- server-side (named) cursor: DECLARE / FETCH / CLOSE inside one transaction ---
named = conn.cursor(name="sluice_cur")
named.itersize = 2  # several FETCH FORWARD 2 round trips, each must reach the backend that DECLAREd it
named.execute("SELECT id, inet_server_port() FROM t_psycopg ORDER BY id")
ids = []
ports = set()
for rid, p in named:
    ids.append(rid)
    ports.add(p)
named.close()
conn.commit()
out("named_cursor_ids", ",".join(str(i) for i in ids))
out("named_cursor_ports", ",".join(str(p) for p in sorted(ports)))

# a WITH HOLD cursor in autocommit mode: DECLARE and each FETCH are separate statements
conn.autocommit = True
held = conn.cursor(name="sluice_held", withhold=True)
held.itersize = 2
held.execute("SELECT id FROM t_psycopg ORDER BY id")
out("held_cursor_ids", ",".join(str(r[0]) for r in held))
held.close()

# --- COPY FROM STDIN / TO STDOUT ---
cur = conn.cursor()
data = io.StringIO("".join("%d\tcopied-%d\t%d.25\t0\n" % (i, i, i) for i in range(100, 150)))
cur.copy_expert("COPY t_psycopg (id, name, amount, port) FROM STDIN", data)
out("copy_in_rows", cur.rowcount)
for _ in range(4):  # COPY TO is a read (a replica): wait until the copied rows are everywhere
    eventually("SELECT count(*) FROM t_psycopg WHERE id >= 100", None, lambda rows: rows[0][0] == 50)
deadline = time.monotonic() + DEADLINE_S
while True:
    buf = io.StringIO()
    cur.copy_expert("COPY (SELECT id, name, amount FROM t_psycopg WHERE id >= 100 ORDER BY id) TO STDOUT WITH (FORMAT csv)", buf)
    lines = buf.getvalue().splitlines()
    if len(lines) == 50 or time.monotonic() > deadline:
        break
    time.sleep(0.1)
out("copy_out_rows", len(lines))
out("copy_out_first", lines[0])
out("copy_out_last", lines[-1])

# a failing COPY FROM (bad data) reports the server's error and the connection stays usable
try:
    cur.copy_expert("COPY t_psycopg (id, name) FROM STDIN", io.StringIO("not-a-number\tx\n"))
    out("copy_bad", "no error")
except psycopg2.Error as e:
    out("copy_bad", e.pgcode)
out("after_copy_error_port", port(cur))


# a big COPY FROM: many CopyData messages streamed through while the proxy must not lose or reorder any
big = io.StringIO("".join("%d\tbig-%d-%s\t%d\t0\n" % (i, i, "x" * 200, i) for i in range(1000, 21000)))
cur.copy_expert("COPY t_psycopg (id, name, amount, port) FROM STDIN", big, size=65536)
out("big_copy_rows", cur.rowcount)
conn.autocommit = False
cur.execute("SELECT count(*), sum(amount), sum(length(name)) FROM t_psycopg WHERE id >= 1000")  # on the primary
out("big_copy_check", "|".join(str(v) for v in cur.fetchone()))
conn.commit()
conn.autocommit = True


# the client aborts a COPY FROM (its file fails): psycopg2 sends CopyFail, the server answers 57014
class Failing(io.StringIO):
    def read(self, *args):
        raise IOError("the file broke")


try:
    cur.copy_expert("COPY t_psycopg (id, name) FROM STDIN", Failing())
    out("copy_fail", "no error")
except psycopg2.Error as e:
    out("copy_fail", e.pgcode)
out("after_copy_fail_port", port(cur))

# several statements in one simple Query: a write among them sends the whole string to the primary
cur.execute("UPDATE t_psycopg SET port = inet_server_port() WHERE id = 5; SELECT inet_server_port()")
out("multi_statement_port", cur.fetchone()[0])

# session state (SET) set once must hold on every backend the session's statements reach: the proxy runs it
# on the backends it holds and replays it on those it picks up later
cur.execute("SET TIME ZONE 'Asia/Tokyo'")
cur.execute("SET search_path TO sluice_nowhere, public")
for _ in range(6):
    cur.execute("SELECT current_setting('TimeZone') || '|' || current_setting('search_path'), inet_server_port()")
    setting, p = cur.fetchone()
    out("session_setting", "%s@%d" % (setting, p))

# LISTEN pins the session to the primary; a NOTIFY from another connection must reach this client
cur.execute("LISTEN sluice_chan")
other = psycopg2.connect(os.environ["SLUICE_DSN"])
other.autocommit = True
other.cursor().execute("NOTIFY sluice_chan, 'hello through the proxy'")
other.close()
import select
deadline = time.monotonic() + DEADLINE_S
while not conn.notifies and time.monotonic() < deadline:
    select.select([conn], [], [], 1.0)
    conn.poll()
out("notify", conn.notifies[0].payload if conn.notifies else "none")
out("after_listen_read_port", port(cur))

# a temporary table exists on one backend only: the session stays on the primary with it
cur.execute("CREATE TEMP TABLE t_tmp (x int)")
cur.execute("INSERT INTO t_tmp VALUES (7)")
cur.execute("SELECT x, inet_server_port() FROM t_tmp")
x, p = cur.fetchone()
out("temp_table", "%d@%d" % (x, p))

conn.close()
out("done", "ok")
