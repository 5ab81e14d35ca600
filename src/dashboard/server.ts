import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { RunStore } from '../store/run-store.js';
import { DashboardApi } from './api.js';
import { HttpError } from './http-error.js';
import { LiveFeed } from './live.js';
import { Query } from './query.js';
import { loadStaticFiles } from './static-files.js';

export interface DashboardOptions {
  store: RunStore;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Where Fashion-MNIST is, for the misclassified images; otherwise where a sweep would look. */
  dataDir?: string;
}

export interface Dashboard {
  url: string;
  /** Ends the event streams and open connections, then the server. The store stays open: its owner closes it. */
  close: () => Promise<void>;
}

/** Only this page's own files, scripts and API: no inline script or style, no other origin, no framing. */
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Serves the dashboard over `store` until closed; resolves once it listens. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const files = loadStaticFiles();
  const api = new DashboardApi(options.store, options.dataDir);
  const live = new LiveFeed(options.store);
  const server = createServer((request, response) => {
    try {
      handle(request, response);
    } catch (error) {
      fail(response, error);
    }
  });

  function handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, `${request.method} is not allowed: the dashboard only reads`);
    }
    // A page on another site can make a browser send requests here under a name that resolves to loopback
    // (DNS rebinding); on loopback only the loopback names are this server.
    const hostHeader = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (isLoopback(options.host) && !isLoopback(hostHeader)) throw new HttpError(421, `this dashboard answers to localhost only, not ${JSON.stringify(hostHeader)}`);
    const url = new URL(request.url ?? '/', 'http://dashboard');
    if (url.pathname === '/api/events') {
      new Query(url.searchParams, []);
      return live.subscribe(response, { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' });
    }
    const file = files.get(url.pathname);
    if (file) return send(response, 200, file.contentType, file.body, 'no-cache');
    if (url.pathname.startsWith('/api/')) {
      const answer = api.answer(url.pathname, url.searchParams);
      if (answer && 'png' in answer) return send(response, 200, 'image/png', answer.png, 'no-cache');
      if (answer) return sendJson(response, 200, answer.json);
    }
    throw new HttpError(404, `nothing at ${url.pathname}`);
  }

  api.warm();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${shownHost}:${port}/`, close: () => closeServer(server, live) };
}

function closeServer(server: Server, live: LiveFeed): Promise<void> {
  live.close();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function send(response: ServerResponse, status: number, contentType: string, body: Buffer | string, cache: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Cache-Control': cache, 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value), 'no-store');
}

/** A refused request says why; anything else is logged here and answered without details, never with a stack. */
function fail(response: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) return sendJson(response, error.status, { error: error.message });
  console.error('runner ui: internal error answering', response.req.url, error);
  if (!response.headersSent) sendJson(response, 500, { error: 'internal error; the server log says more' });
  else response.destroy();
}
