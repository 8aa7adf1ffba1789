// node mysql2 (pinned by NodeMysql2IT) through the Sluice MySQL proxy, with both of its APIs: query() (text
// protocol, client-side parameters) and execute() (COM_STMT_PREPARE / EXECUTE, statements cached per
// connection). Prints "label value" facts; NodeMysql2IT judges them. t_node holds rows 1..10, replicated.
'use strict';
const mysql = require('mysql2/promise');

const cfg = {
  host: process.env.SLUICE_HOST,
  port: Number(process.env.SLUICE_PORT),
  user: process.env.SLUICE_USER,
  password: process.env.SLUICE_PASSWORD,
  database: process.env.SLUICE_DB,
  connectTimeout: 10000,
  charset: 'utf8mb4',
};

function fact(label, value) {
  console.log(label + ' ' + value);
}

async function errno(p) {
  try {
    await p;
    return 'none';
  } catch (e) {
    return e.errno;
  }
}

async function main() {
  const c = await mysql.createConnection(cfg);
  fact('connected', true);

  // query(): writes (RETURNING tells where they ran) and autocommit reads
  for (let i = 1; i <= 5; i++) {
    const [rows] = await c.query('INSERT INTO t_node VALUES (?, ?, @@port) RETURNING written_on', [100 + i, `query-${i} ✓`]);
    fact('query_insert_port', rows[0].written_on);
  }
  for (let i = 0; i < 10; i++) {
    const [rows] = await c.query('SELECT @@port AS p');
    fact('query_read_port', rows[0].p);
  }
  const [lock] = await c.query('SELECT id, @@port AS p FROM t_node WHERE id = 1 FOR UPDATE');
  fact('query_for_update_port', lock[0].p);

  // execute(): one statement prepared once by the client, executed 20 times (on several backends)
  const ports = [];
  let labels = true;
  for (let i = 0; i < 20; i++) {
    const id = 1 + (i % 10);
    const [rows] = await c.execute('SELECT label, @@port AS p FROM t_node WHERE id = ?', [id]);
    labels = labels && rows.length === 1 && rows[0].label === `label-${id} ✓`;
    ports.push(rows[0].p);
  }
  fact('execute_runs', ports.length);
  fact('execute_ports', ports.join(','));
  fact('execute_labels_ok', labels);
  for (let i = 1; i <= 5; i++) {
    const [rows] = await c.execute('INSERT INTO t_node VALUES (?, ?, @@port) RETURNING written_on', [200 + i, `execute-${i}`]);
    fact('execute_insert_port', rows[0].written_on);
  }
  // an explicitly prepared statement, closed (COM_STMT_CLOSE), and the same text prepared again
  const stmt = await c.prepare('SELECT ? + 1 AS v, @@port AS p');
  const [pr] = await stmt.execute([41]);
  fact('prepared_value', pr[0].v);
  fact('prepared_port', pr[0].p);
  stmt.close();
  c.unprepare('SELECT label, @@port AS p FROM t_node WHERE id = ?');
  const [again] = await c.execute('SELECT label, @@port AS p FROM t_node WHERE id = ?', [3]);
  fact('reprepared_label', again[0].label);

  // transactions: everything on the primary, own writes visible, rollback
  await c.beginTransaction();
  const [tx1] = await c.execute('SELECT @@port AS p');
  fact('tx_first_port', tx1[0].p);
  await c.execute('UPDATE t_node SET label = ? WHERE id = ?', ['updated', 4]);
  const [tx2] = await c.execute('SELECT label, @@port AS p FROM t_node WHERE id = ?', [4]);
  fact('tx_label', tx2[0].label);
  fact('tx_execute_port', tx2[0].p);
  const [tx3] = await c.query('SELECT @@port AS p');
  fact('tx_query_port', tx3[0].p);
  await c.commit();
  await c.beginTransaction();
  await c.query('INSERT INTO t_node VALUES (300, ?, @@port)', ['gone']);
  await c.rollback();
  const [rb] = await c.query('SELECT COUNT(*) AS n FROM t_node WHERE id = 300 FOR UPDATE');
  fact('rolled_back_rows', rb[0].n);

  // errors, on both paths; the connection goes on
  fact('error_query_syntax', await errno(c.query('SELEC 1')));
  fact('error_execute_syntax', await errno(c.execute('SELEC ?', [1])));
  fact('error_execute_syntax_again', await errno(c.execute('SELEC ?', [1])));
  fact('error_execute_undefined_table', await errno(c.execute('SELECT * FROM no_such_table WHERE id = ?', [1])));
  fact('error_execute_duplicate', await errno(c.execute('INSERT INTO t_node VALUES (?, ?, 0)', [1, 'dup'])));
  const [after] = await c.execute('SELECT ? AS v', [42]);
  fact('after_errors', after[0].v);

  // large results: 100000 rows as text (query) and as binary rows (execute)
  const [big] = await c.query("SELECT seq, REPEAT('y', 50) AS pad FROM seq_1_to_100000");
  fact('big_query', `${big.length}|${big.reduce((s, r) => s + r.seq, 0)}|${big.every((r, i) => r.seq === i + 1 && r.pad.length === 50)}`);
  const [bigx] = await c.execute('SELECT seq FROM seq_1_to_100000 WHERE seq > ?', [0]);
  fact('big_execute', `${bigx.length}|${bigx.reduce((s, r) => s + r.seq, 0)}`);

  // KILL QUERY from a second connection with the first one's handshake id
  const victim = await mysql.createConnection(cfg);
  const t0 = Date.now();
  const sleeping = errno(victim.query('SELECT SLEEP(10)'));
  await new Promise((r) => setTimeout(r, 1000));
  await c.query(`KILL QUERY ${victim.threadId}`);
  const killed = await sleeping;
  fact('kill_query', killed === 'none' ? 'returned' : killed);
  fact('kill_query_ms', Date.now() - t0);
  const [vk] = await victim.execute('SELECT @@port AS p');
  fact('after_kill_query_port', vk[0].p);
  await victim.end();

  // a pool: 50 transactional inserts from 10 concurrent tasks over 5 connections
  const pool = mysql.createPool({ ...cfg, connectionLimit: 5 });
  await Promise.all(Array.from({ length: 10 }, async (_, t) => {
    for (let k = 0; k < 5; k++) {
      const pc = await pool.getConnection();
      try {
        await pc.beginTransaction();
        await pc.execute('INSERT INTO t_node VALUES (?, ?, @@port)', [1000 + t * 5 + k, `pool-${t}-${k}`]);
        await pc.commit();
      } finally {
        pc.release();
      }
    }
  }));
  const [pw] = await pool.query('SELECT COUNT(*) AS n, COUNT(DISTINCT written_on) AS nodes, MIN(written_on) AS p FROM t_node WHERE id >= 1000 FOR UPDATE');
  fact('pool_writes', `${pw[0].n}/${pw[0].nodes}`);
  fact('pool_write_port', pw[0].p);
  await pool.end();

  fact('auth_error', await errno(mysql.createConnection({ ...cfg, password: 'wrong-password' })));
  await c.end();
  fact('done', 'ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
