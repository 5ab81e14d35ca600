import { spawn } from 'node:child_process';
import { CLI } from './cli.js';

export interface RunningDashboard {
  url: string;
  /** Sends the signal and resolves with how the process ended and everything it printed. */
  stop: (signal?: NodeJS.Signals) => Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/** Starts the built `runner ui` on a free port and resolves once it prints its URL. */
export function startDashboard(args: string[], cwd?: string): Promise<RunningDashboard> {
  const child = spawn(process.execPath, [CLI, 'ui', '--port', '0', ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (status) => resolve({ status, stdout, stderr })));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const url = /http:\/\/\S+\//.exec(stdout)?.[0];
      if (url) resolve({ url, stop: (signal = 'SIGINT') => (child.kill(signal), exited) });
    });
    void exited.then((end) => reject(new Error(`runner ui exited ${end.status} before printing its URL:\n${end.stdout}\n${end.stderr}`)));
  });
}
