import { UserError } from '../../errors.js';

/** Where the queue's Redis is, as given (`--queue`, RUNNER_QUEUE), and how to show it without its password. */
export interface QueueAddress {
  url: string;
  /** The URL with any password replaced by `***`, for messages and logs. */
  shown: string;
}

const FORMAT = 'redis://[user:password@]host:port[/db] (rediss:// for TLS)';

/** `--queue` (or RUNNER_QUEUE when the flag is absent), checked; undefined when neither is given. */
export function queueAddress(flag: string | undefined): QueueAddress | undefined {
  const text = flag ?? (process.env.RUNNER_QUEUE || undefined);
  if (text === undefined) return undefined;
  const source = flag === undefined ? 'RUNNER_QUEUE' : '--queue';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`${source} ${JSON.stringify(redact(text))} is not a URL: expected ${FORMAT}`);
  }
  const shown = redactUrl(url);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UserError(`${source} ${shown}: expected ${FORMAT}, not ${url.protocol}//`);
  if (!url.hostname) throw new UserError(`${source} ${shown}: the URL names no host; expected ${FORMAT}`);
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) {
    throw new UserError(`${source} ${shown}: the path must be a database number such as /0, not ${url.pathname}`);
  }
  if (url.search || url.hash) throw new UserError(`${source} ${shown}: expected ${FORMAT}, without ?query or #fragment`);
  return { url: url.href, shown };
}

/** A queue is required (worker, queue status): say how to name one. */
export function requiredQueueAddress(flag: string | undefined): QueueAddress {
  const address = queueAddress(flag);
  if (!address) throw new UserError(`no queue given: pass --queue ${FORMAT}, or set RUNNER_QUEUE`);
  return address;
}

function redactUrl(url: URL): string {
  if (!url.password) return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

/** For text that did not even parse as a URL: hide whatever sits between `:` and `@`. */
function redact(text: string): string {
  return text.replace(/:[^:@/]*@/, ':***@');
}
