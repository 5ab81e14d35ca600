import type { MetaResponse } from '../api-types.js';
import { ApiFailure, getJson } from './api.js';
import { CompareView } from './compare-page.js';
import { DiffView } from './diff-page.js';
import { h, replaceChildren } from './dom.js';
import { OverviewView, filtersFrom } from './overview.js';
import { RunView } from './run-page.js';
import type { View } from './view.js';

const root = document.getElementById('view')!;
const liveBadge = document.getElementById('live')!;
let current: { key: string; view: View } | undefined;
let loading: Promise<void> | undefined;
let reloadAfter = false;

/** `#/`, `#/?experiment=…`, `#/run/ID`, `#/compare/ID,ID`, `#/diff?a=…&b=…`. */
function route(): void {
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(search);
  const [, page = '', arg = ''] = path.split('/');
  const key = `${page}/${arg}`;
  document.querySelectorAll<HTMLAnchorElement>('header nav a').forEach((a) => a.classList.toggle('active', a.dataset.view === (page === 'diff' ? 'diff' : 'overview')));
  if (page === '' && current?.view instanceof OverviewView) {
    current.view.setFilters(filtersFrom(params));
    void refresh();
    return;
  }
  if (page === 'diff') current = { key, view: new DiffView(root, { a: params.get('a') || undefined, b: params.get('b') || undefined, experiment: params.get('experiment') || undefined }) };
  else if (page === 'run' && arg) current = { key, view: new RunView(root, decodeURIComponent(arg)) };
  else if (page === 'compare' && arg) current = { key, view: new CompareView(root, decodeURIComponent(arg).split(',')) };
  else current = { key, view: new OverviewView(root, filtersFrom(params)) };
  void refresh();
}

/** One load at a time; changes that arrive during one cause exactly one more. */
async function refresh(): Promise<void> {
  if (loading) {
    reloadAfter = true;
    return loading;
  }
  const view = current!.view;
  loading = view
    .load()
    .then(() => document.body.setAttribute('data-loaded', String(Date.now())))
    .catch((error: unknown) => {
      const message = error instanceof ApiFailure ? `${error.message} (HTTP ${error.status})` : String(error);
      replaceChildren(root, h('p', { class: 'error', id: 'load-error' }, message), h('p', {}, h('a', { href: '#/' }, 'back to the runs')));
      console.warn('runner ui:', message);
    })
    .finally(() => {
      loading = undefined;
      if (reloadAfter) {
        reloadAfter = false;
        void refresh();
      }
    });
  return loading;
}

function listen(): void {
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => setLive('live', 'live'));
  events.addEventListener('error', () => setLive('reconnecting', 'reconnecting…'));
  events.addEventListener('change', () => void refresh());
}

function setLive(state: string, text: string): void {
  liveBadge.dataset.state = state;
  liveBadge.textContent = text;
}

const meta = getJson<MetaResponse>('/api/meta');
window.addEventListener('hashchange', route);
route();
void meta.then(({ database, live }) => {
  document.getElementById('database')!.textContent = `${database} (read-only)`;
  if (live) listen();
  else setLive('snapshot', 'snapshot taken at start (runner ui says why)');
});
