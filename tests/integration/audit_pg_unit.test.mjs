// The PostgreSQL audit sink's own tests (tests/unit/test_audit_pg.c: write,
// replay of a batch, a conflicting record, checkpoints, retention, a backend
// killed under the sink, no password in any error, a least-privilege role)
// against a real PostgreSQL started here. make test-unit runs that binary
// without a database, where it only says it skipped; this is where it runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BIN } from './lib.mjs';
import { startPostgres } from './pg.mjs';

const UNIT = join(dirname(BIN), 'unit', 'test_audit_pg');
let pg;

before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.destroy(); });

test('the postgres sink passes its unit tests against a real server', () => {
  assert.ok(existsSync(UNIT), `${UNIT} is not built (make unit-bins)`);
  pg.psql("CREATE ROLE mcpgw_writer LOGIN PASSWORD 'Writer-Pass-1'", 'postgres');
  const writer = `postgresql://mcpgw_writer:Writer-Pass-1@127.0.0.1:${pg.port}/${pg.database}`;
  const r = spawnSync(UNIT, [], {
    env: { ...process.env, MCPGW_TEST_PG_URL: pg.url, MCPGW_TEST_PG_WRITER_URL: writer },
    encoding: 'utf8', timeout: 120000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /SKIPPED/, out);
  assert.match(out, /\[  PASSED  \] [1-9]\d* test\(s\)/, out);
  assert.doesNotMatch(out, /FAILED/, out);
});
