import type { ServerResponse } from 'node:http';
import type { RunStore } from '../store/run-store.js';

/** Often enough that an epoch of a tiny trial shows up while it is the newest; a data_version read costs microseconds. */
const POLL_MS = 250;
/** Proxies and browsers drop event streams that stay silent for long. */
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events telling every open page that the database changed, so that it fetches what it shows again.
 * A sweep commits from other processes; SQLite's data_version moves on each of their commits, so polling it
 * notices a new run or epoch without reading any table, and only while a page is listening.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private poller: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private version: number;

  constructor(private readonly store: RunStore) {
    this.version = store.dataVersion();
  }

  subscribe(response: ServerResponse, headers: Record<string, string>): void {
    response.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    // A HEAD request asks whether the stream is there, and gets no body to wait for.
    if (response.req.method === 'HEAD') {
      response.end();
      return;
    }
    response.write('retry: 1000\n\n');
    this.clients.add(response);
    response.on('close', () => {
      this.clients.delete(response);
      if (this.clients.size === 0) this.stopTimers();
    });
    this.poller ??= setInterval(() => this.poll(), POLL_MS);
    this.keepalive ??= setInterval(() => this.send(': keepalive\n\n'), KEEPALIVE_MS);
  }

  /** Ends every stream, so that the server can close. */
  close(): void {
    this.stopTimers();
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private poll(): void {
    let version: number;
    try {
      version = this.store.dataVersion();
    } catch (error) {
      // The pages keep what they show; their event streams end, and the log says why, once.
      console.error('runner ui: cannot read the database any more, live updates stop:', (error as Error).message);
      this.close();
      return;
    }
    if (version === this.version) return;
    this.version = version;
    this.send(`event: change\ndata: ${version}\n\n`);
  }

  private send(text: string): void {
    for (const client of this.clients) client.write(text);
  }

  private stopTimers(): void {
    clearInterval(this.poller);
    clearInterval(this.keepalive);
    this.poller = this.keepalive = undefined;
  }
}
