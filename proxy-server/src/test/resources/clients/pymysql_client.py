# pymysql (Debian's python3-pymysql) through the Sluice MySQL proxy. Prints "label value" facts, one per line;
# PyMysqlIT judges them (where each statement ran, what came back). Table t_py exists and is replicated.
import os
import threading
import time

import pymysql
from pymysql.constants import CLIENT


def connect(password=None, **kw):
    return pymysql.connect(host=os.environ["SLUICE_HOST"], port=int(os.environ["SLUICE_PORT"]),
                           user=os.environ["SLUICE_USER"], password=password or os.environ["SLUICE_PASSWORD"],
                           database=os.environ["SLUICE_DB"], autocommit=True, connect_timeout=10, charset="utf8mb4", **kw)


def fact(label, value):
    print(label, value, flush=True)


def one(cur, sql, args=None):
    cur.execute(sql, args)
    return cur.fetchone()


c = connect()
cur = c.cursor()
fact("connected", "true")

# autocommit writes (RETURNING tells where they ran) and reads
for i in range(1, 6):
    fact("insert_port", one(cur, "INSERT INTO t_py VALUES (%s, %s, %s, @@port) RETURNING written_on", (i, "name-%d 'quoted' ü" % i, i + 0.5))[0])
cur.executemany("INSERT INTO t_py VALUES (%s, %s, %s, @@port)", [(i, "bulk-%d" % i, i) for i in range(10, 20)])
fact("executemany_rows", cur.rowcount)
for _ in range(10):
    fact("autocommit_read_port", one(cur, "SELECT @@port")[0])
r = one(cur, "SELECT %s, %s, %s, @@port", ("name 'quoted' ü", 4.5, None))
fact("params", "%s|%s|%s" % r[:3])
fact("params_port", r[3])
fact("for_update_port", one(cur, "SELECT id, @@port FROM t_py WHERE id = 1 FOR UPDATE")[1])

# explicit transactions: BEGIN .. COMMIT, then SET autocommit=0 as pymysql sends it
c.begin()
fact("tx_read_port", one(cur, "SELECT @@port")[0])
cur.execute("UPDATE t_py SET amount = amount + 100 WHERE id = 1")
r = one(cur, "SELECT amount, @@port FROM t_py WHERE id = 1")
fact("tx_sees_own_write", r[0])
fact("tx_update_port", r[1])
c.commit()
c.begin()
cur.execute("INSERT INTO t_py VALUES (99, 'gone', 0, @@port)")
c.rollback()
fact("rolled_back_rows", one(cur, "SELECT COUNT(*) FROM t_py WHERE id = 99 FOR UPDATE")[0])
c.autocommit(False)
fact("autocommit_off_port", one(cur, "SELECT @@port")[0])
c.commit()
c.autocommit(True)
fact("autocommit_on_again_port", one(cur, "SELECT @@port")[0])

# errors reach the client with the server's code; the connection goes on
for label, sql in (("syntax", "SELEC 1"), ("undefined_table", "SELECT * FROM no_such_table"),
                   ("duplicate", "INSERT INTO t_py VALUES (1, 'dup', 0, 0)")):
    try:
        cur.execute(sql)
        fact("error_" + label, "none")
    except pymysql.MySQLError as e:
        fact("error_" + label, e.args[0])
    fact("after_error_" + label, one(cur, "SELECT 42")[0])
# an error inside a transaction does not end it (MySQL semantics): its earlier write commits
c.begin()
cur.execute("INSERT INTO t_py VALUES (30, 'before the error', 0, @@port)")
try:
    cur.execute("SELECT * FROM no_such_table")
except pymysql.MySQLError as e:
    fact("tx_error", e.args[0])
fact("tx_after_error_port", one(cur, "SELECT @@port")[0])
c.commit()
fact("tx_error_committed", one(cur, "SELECT name FROM t_py WHERE id = 30 FOR UPDATE")[0])

# large results, buffered and streamed (SSCursor reads rows as they arrive)
r = one(cur, "SELECT COUNT(*), SUM(seq) FROM (SELECT seq FROM seq_1_to_100000) s")
cur.execute("SELECT seq, REPEAT('x', 100) FROM seq_1_to_100000")
rows = cur.fetchall()
fact("big_result", "%d|%d|%s" % (len(rows), sum(x[0] for x in rows), all(len(x[1]) == 100 for x in rows)))
ss = c.cursor(pymysql.cursors.SSCursor)
ss.execute("SELECT seq FROM seq_1_to_100000")
n, total = 0, 0
for (s,) in ss:
    n, total = n + 1, total + s
ss.close()
fact("streamed_result", "%d|%d" % (n, total))

# multi-statement text with a write in it
m = connect(client_flag=CLIENT.MULTI_STATEMENTS)
mc = m.cursor()
mc.execute("SELECT @@port; UPDATE t_py SET name = 'multi' WHERE id = 2; SELECT name, @@port FROM t_py WHERE id = 2")
ports = [mc.fetchone()[0]]
mc.nextset()
mc.nextset()
r = mc.fetchone()
fact("multi_statement", "%s@%s,%s" % (r[0], ports[0], r[1]))
m.close()

# session state holds wherever the proxy runs the session's reads; a temporary table is read where it lives
cur.execute("SET @marker = 42")
cur.execute("SET SESSION sql_mode = 'ANSI_QUOTES'")
for _ in range(4):
    r = one(cur, "SELECT @marker, @@SESSION.sql_mode, @@port")
    fact("session_state", "%s|%s@%s" % r)
cur.execute("CREATE TEMPORARY TABLE tmp_py (v int)")
cur.execute("INSERT INTO tmp_py VALUES (7)")
fact("temp_table", "%s@%s" % one(cur, "SELECT v, @@port FROM tmp_py"))

# KILL QUERY / KILL from a second connection, with the id of the first one's handshake (thread_id())
victim = connect()
killer = connect()
result = {}


def sleeper():
    t0 = time.time()
    try:
        result["r"] = "returned %s" % (one(victim.cursor(), "SELECT SLEEP(10)"),)
    except pymysql.MySQLError as e:
        result["r"] = e.args[0]
    result["ms"] = int((time.time() - t0) * 1000)


th = threading.Thread(target=sleeper)
th.start()
time.sleep(1)
killer.cursor().execute("KILL QUERY %d" % victim.thread_id())
th.join(15)
fact("kill_query", result.get("r"))
fact("kill_query_ms", result.get("ms"))
fact("after_kill_query_port", one(victim.cursor(), "SELECT @@port")[0])
killer.cursor().execute("KILL %d" % victim.thread_id())
try:
    one(victim.cursor(), "SELECT 1")
    fact("after_kill", "alive")
except pymysql.MySQLError as e:
    fact("after_kill", e.args[0])
fact("killer_still_works", one(killer.cursor(), "SELECT 42")[0])

try:
    connect(password="wrong-password")
    fact("auth_error", "none")
except pymysql.MySQLError as e:
    fact("auth_error", e.args[0])
fact("done", "ok")
