import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import type { BackendName } from './names.js';
import { backendEntry, type MachineOptions, type Probe } from './registry.js';

const CHILD = join(packageRoot, 'dist', 'src', 'backend', 'probe-child.js');

/** What `name` finds on this machine; native libraries are loaded only in a child process (see BackendEntry.isolated). */
export async function probeBackend(name: BackendName, options: MachineOptions, asked = false): Promise<Probe> {
  const entry = backendEntry(name);
  const verdict = entry.verdictWithoutProbe?.(asked);
  if (verdict) return verdict;
  if (!entry.isolated) return entry.probe(options);
  return new Promise((resolve) => {
    // The environment of a trial process, so that libtensorflow behaves as it will there.
    const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', TF_FORCE_GPU_ALLOW_GROWTH: 'true' };
    execFile(process.execPath, [CHILD, name, options.gpu ?? ''], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      // Native libraries explain a failure on stderr (Dawn: a driver it cannot use); the first such line says why.
      const warning = stderr
        .split('\n')
        .find((line) => /warning|error/i.test(line))
        ?.replace(/^\s*(Warning|Error):\s*/i, '');
      try {
        const probe = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Probe;
        resolve(probe.usable || !warning ? probe : { ...probe, detail: `${probe.detail} (${warning})` });
      } catch {
        const why = (error?.message ?? stderr).split('\n')[0];
        resolve({ usable: false, gpu: false, detail: `its probe failed: ${why}` });
      }
    });
  });
}
