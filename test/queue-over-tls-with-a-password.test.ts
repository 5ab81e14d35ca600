import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { checkout, localhostCertificate, startRedis, workerPool } from './helpers/redis.js';
import { completedOnce, halfWritten, startCli, tinyExperiment } from './helpers/sweeps.js';

const workers = workerPool();

describe('a queue on a Redis that takes only TLS and a password', () => {
  it('a sweep over rediss:// with the password trains and records its trial; a wrong password or plain redis:// is a clear error', async () => {
    const certificate = localhostCertificate();
    const redis = await startRedis({ tls: certificate, password: 'a long secret' });
    // The test's own CA, trusted the way a user trusts a private CA: NODE_EXTRA_CA_CERTS.
    const trust = { NODE_EXTRA_CA_CERTS: certificate.ca };
    const repo = checkout({ 'one.yaml': tinyExperiment('one', '', 'epochs: 1', 'trainLimit: 300, testLimit: 300') });
    const db = join(repo.dir, 'runs', 'runs.sqlite');
    expect(redis.url).toMatch(/^rediss:\/\/:a%20long%20secret@localhost:\d+$/);

    const wrong = await runCli(['queue', 'status', '--queue', redis.url.replace('long', 'short')], { env: trust });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/refused the login .*put its user and password in the URL/);
    expect(wrong.stderr).not.toContain('short');
    const plain = await runCli(['queue', 'status', '--queue', redis.url.replace('rediss://', 'redis://')], { env: trust });
    expect(plain.status).toBe(2);
    expect(plain.stderr).toMatch(/cannot reach the queue's Redis/);

    workers.start(redis.url, repo.dir, trust);
    const sweep = startCli(['sweep', 'one.yaml', '--db', db, '--queue', redis.url], repo.dir, trust);
    const result = await sweep.done;
    expect(result.status, result.stderr).toBe(0);
    expect(completedOnce(db)).toEqual({ completed: 1, distinct: 1 });
    expect(halfWritten(db)).toEqual([]);
    const status = await runCli(['queue', 'status', '--queue', redis.url], { env: trust });
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/0 running, 0 waiting, 1 completed, 0 failed/);
  });
});
