import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { UserError } from '../../errors.js';
import type { QueueAddress } from './address.js';

/** Every trial of every sweep goes through one queue: workers pull from it whatever experiment it holds. */
export const QUEUE_NAME = 'runner-trials';

/**
 * BullMQ's connection to the queue's Redis. Commands wait through a restart of Redis rather than fail
 * (`maxRetriesPerRequest: null`, which BullMQ's workers require anyway): a sweep goes on once Redis is back.
 */
export function connectionOf(address: QueueAddress): ConnectionOptions {
  return { url: address.url, maxRetriesPerRequest: null };
}

/**
 * Connects once, without retrying, so that a wrong address or password is a clear error before anything is
 * enqueued or pulled, instead of a client that retries forever in silence.
 */
export async function checkReachable(address: QueueAddress): Promise<void> {
  const client = new Redis(address.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  // The socket's error (ECONNREFUSED, ENOTFOUND) says more than the `Connection is closed` that connect() rejects with.
  let socketError: string | undefined;
  client.on('error', (error: Error) => (socketError ??= error.message));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const reason = socketError ?? (error as Error).message;
    if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(reason)) {
      throw new UserError(`the queue's Redis at ${address.shown} refused the login (${reason}): put its user and password in the URL, redis://user:password@host:port`);
    }
    throw new UserError(`cannot reach the queue's Redis at ${address.shown} (${reason}): start redis-server there, or point --queue / RUNNER_QUEUE at a running one`);
  } finally {
    client.disconnect();
  }
}
