// Tests of the PostgreSQL harness itself, so that a failing integration test points at the
// product rather than at its test server.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { havePostgres, startPostgres, type PostgresServer } from './postgres.js';

describe.skipIf(!havePostgres)('PostgreSQL harness', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('runs SQL, and round-trips a database through pg_dump and pg_restore', async () => {
    await server.createDatabase('one');
    await server.sql(
      'one',
      `CREATE TABLE t (id int PRIMARY KEY, note text, raw bytea);
       INSERT INTO t VALUES (1, E'tab\\there', '\\x00ff'), (2, NULL, NULL);`,
    );
    expect(await server.sql('one', 'SELECT count(*) FROM t')).toBe('2\n');
    const dump = (await server.run('pg_dump', ['-Fc', '-d', 'one'])).stdout;
    await server.createDatabase('two');
    await server.run('pg_restore', ['--no-owner', '-d', 'two'], dump);
    const rows = 'SELECT * FROM t ORDER BY id';
    expect((await server.copyOut('two', rows)).toString()).toBe(
      '1\ttab\\there\t\\\\x00ff\n2\t\\N\t\\N\n',
    );
    expect((await server.copyOut('two', rows)).equals(await server.copyOut('one', rows))).toBe(
      true,
    );
  });

  it('listens on loopback only, and asks for the password', () => {
    expect(server.env).toMatchObject({ PGHOST: '127.0.0.1', PGPORT: String(server.port) });
    const psql = (password: string) =>
      spawnSync(server.bin('psql'), ['-X', '-At', '-d', 'postgres', '-c', 'SELECT 1'], {
        env: { ...process.env, ...server.env, PGPASSWORD: password },
        encoding: 'utf8',
      });
    expect(psql(server.password).stdout).toBe('1\n');
    expect(psql('wrong').stderr).toMatch(/password authentication failed/);
  });

  it('removes its directory when stopped', async () => {
    const other = await startPostgres();
    expect(existsSync(other.dir)).toBe(true);
    await other.stop();
    expect(existsSync(other.dir)).toBe(false);
  });
});
