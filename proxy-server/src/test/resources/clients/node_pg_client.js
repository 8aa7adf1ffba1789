// node-postgres (the `pg` package, pure JavaScript, extended protocol for parameterized queries) through the
// Sluice proxy. Prints one "label value" line per fact; NodePgIT judges them. Connection settings come from
// the standard PG* environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD).
'use strict';
const { Client, Pool } = require('pg');

const DEADLINE_MS = 30000;
const out = (label, value) => console.log(label + ' ' + value);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// autocommit reads go to replicas, which replay asynchronously: poll (with a deadline) until the answer is right
async function eventually(client, query, ok) {
  const deadline = Date.now() + DEADLINE_MS;
  let last;
  for (;;) {
    try {
      last = await client.query(query);
      if (ok(last)) return last;
    } catch (e) {
      if (e.code !== '42P01') throw e; // the replica has not replayed the CREATE TABLE yet
      last = e;
    }
    if (Date.now() > deadline) throw new Error('never got the expected result of ' + JSON.stringify(query) + ': ' + last);
    await sleep(100);
  }
}

async function main() {
  const client = new Client();
  await client.connect();
  out('connected', client.processID !== null);

  await client.query('DROP TABLE IF EXISTS t_nodepg');
  await client.query('CREATE TABLE t_nodepg (id int PRIMARY KEY, label text, doc jsonb, port int)');
  // parameterized: Parse/Bind/Execute with the unnamed statement
  for (let i = 1; i <= 5; i++) {
    const r = await client.query('INSERT INTO t_nodepg VALUES ($1, $2, $3, inet_server_port()) RETURNING port',
      [i, 'label-' + i + ' ✓', { n: i, tags: ['a', 'b'] }]);
    out('insert_port', r.rows[0].port);
  }
  for (let i = 0; i < 4; i++) {
    await eventually(client, 'SELECT count(*)::int AS n FROM t_nodepg', (r) => r.rows[0].n === 5);
  }

  // a named prepared statement: node-postgres sends Parse once per connection and then only Bind/Execute, so
  // every backend the proxy routes it to must get it re-created by the proxy
  const ports = {};
  for (let i = 0; i < 20; i++) {
    const id = (i % 5) + 1;
    const r = await client.query({
      name: 'by_id',
      text: 'SELECT id, label, doc, inet_server_port() AS port FROM t_nodepg WHERE id = $1',
      values: [id],
    });
    if (r.rows.length !== 1 || r.rows[0].id !== id || r.rows[0].label !== 'label-' + id + ' ✓' || r.rows[0].doc.n !== id) {
      throw new Error('prepared statement returned ' + JSON.stringify(r.rows) + ' for id ' + id);
    }
    ports[r.rows[0].port] = (ports[r.rows[0].port] || 0) + 1;
  }
  out('prepared_ports', Object.keys(ports).sort().join(','));
  out('prepared_runs', Object.values(ports).reduce((a, b) => a + b, 0));

  // a transaction: BEGIN … COMMIT on the primary, the prepared statement included
  await client.query('BEGIN');
  const u = await client.query('UPDATE t_nodepg SET label = $1, port = inet_server_port() WHERE id = $2 RETURNING port', ['updated', 2]);
  out('tx_update_port', u.rows[0].port);
  const inTx = await client.query({ name: 'by_id', text: 'SELECT id, label, doc, inet_server_port() AS port FROM t_nodepg WHERE id = $1', values: [2] });
  out('tx_prepared_port', inTx.rows[0].port);
  out('tx_prepared_label', inTx.rows[0].label);
  await client.query('COMMIT');

  // a rolled-back transaction
  await client.query('BEGIN');
  await client.query('INSERT INTO t_nodepg VALUES ($1, $2, NULL, 0)', [99, 'never']);
  await client.query('ROLLBACK');
  await client.query('BEGIN');
  const rb = await client.query('SELECT count(*)::int AS n FROM t_nodepg WHERE id = $1', [99]);
  await client.query('COMMIT');
  out('rolled_back_rows', rb.rows[0].n);

  // errors: the server's SQLSTATE reaches the client, and the connection stays usable
  for (const [label, sql] of [['syntax', 'SELEC 1'], ['undefined_table', 'SELECT * FROM no_such_table_here WHERE x = $1'],
    ['syntax_simple', 'SELECT FROM WHERE']]) {
    try {
      await client.query(sql, label === 'undefined_table' ? [1] : undefined);
      out('error_' + label, 'none');
    } catch (e) {
      out('error_' + label, e.code);
    }
    const r = await client.query('SELECT $1::int + 1 AS v, inet_server_port() AS port', [41]);
    out('after_error_' + label, r.rows[0].v);
  }
  // an error inside a transaction: the transaction is aborted (25P02) until ROLLBACK, then all is well again
  await client.query('BEGIN');
  await client.query('SELECT 1');
  try { await client.query('SELECT * FROM no_such_table_here'); } catch (e) { out('tx_error', e.code); }
  try { await client.query('SELECT 1'); out('tx_aborted', 'none'); } catch (e) { out('tx_aborted', e.code); }
  await client.query('ROLLBACK');
  const again = await client.query({ name: 'by_id', text: 'SELECT id, label, doc, inet_server_port() AS port FROM t_nodepg WHERE id = $1', values: [4] });
  out('after_tx_error_prepared', again.rows[0].label);


  // a named statement whose Parse fails: the client is told (42601) each time, and the name stays unknown
  for (let i = 0; i < 2; i++) {
    try {
      await client.query({ name: 'broken', text: 'SELEC $1::int', values: [1] });
      out('broken_prepared_' + i, 'none');
    } catch (e) {
      out('broken_prepared_' + i, e.code);
    }
  }
  // the same name then defined correctly works (it was never created on any backend)
  const fixed = await client.query({ name: 'fixed', text: 'SELECT $1::int * 2 AS v', values: [21] });
  out('fixed_prepared', fixed.rows[0].v);

  // a big result through the extended protocol: every row arrives, in order
  const big = await client.query('SELECT g, repeat($1, 50) AS pad FROM generate_series(1, $2::int) g', ['y', 100000]);
  let ordered = big.rows.length === 100000;
  for (let i = 0; ordered && i < big.rows.length; i++) ordered = big.rows[i].g === i + 1 && big.rows[i].pad.length === 50;
  out('big_result_ok', ordered);

  // many clients at once (a pool of 10 connections, 200 jobs in flight): each job either runs the named
  // statement on some replica or writes in a transaction; the proxy's sessions must not mix up replies
  await client.query('CREATE TABLE IF NOT EXISTS t_nodepg_load (job int PRIMARY KEY, port int)');
  const pool = new Pool({ max: 10 });
  const jobs = [];
  for (let j = 0; j < 200; j++) {
    jobs.push((async () => {
      const c = await pool.connect();
      try {
        if (j % 4 === 0) {
          await c.query('BEGIN');
          await c.query('INSERT INTO t_nodepg_load VALUES ($1, inet_server_port())', [j]);
          const r = await c.query('SELECT job FROM t_nodepg_load WHERE job = $1', [j]);
          await c.query('COMMIT');
          if (r.rows.length !== 1) throw new Error('job ' + j + ' did not see its own insert');
        } else {
          const id = (j % 5) + 1;
          const r = await c.query({ name: 'load_by_id', text: 'SELECT id FROM t_nodepg WHERE id = $1', values: [id] });
          if (r.rows.length !== 1 || r.rows[0].id !== id) throw new Error('job ' + j + ' got ' + JSON.stringify(r.rows));
        }
      } finally {
        c.release();
      }
    })());
  }
  await Promise.all(jobs);
  await pool.end();
  const load = await client.query('BEGIN; SELECT count(*)::int AS n, count(DISTINCT port)::int AS ports FROM t_nodepg_load; COMMIT');
  out('load_writes', load[1].rows[0].n + '/' + load[1].rows[0].ports);

  await client.end();
  out('done', 'ok');
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e, e && e.code ? 'SQLSTATE ' + e.code : '');
  process.exit(1);
});
