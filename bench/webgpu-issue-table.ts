import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';

const WORKER = join(packageRoot, 'dist', 'bench', 'webgpu-issue.js');

interface IssueCost {
  batch: number;
  msPerStep: number;
  samplesPerSecondCeiling: number;
  dispatches: number;
  uploads: number;
  submits: number;
}

/** The table of `webgpu-issue.js`, one process per batch size. */
export function benchWebGpuIssue(batches: number[]): void {
  console.log("## webgpu: what a training step costs the CPU (seed CNN, the runner's TrainStep, Dawn's null backend)\n");
  console.log('A real GPU adds its Vulkan driver\'s own time per call; the ceiling is what this CPU could issue with an infinitely fast GPU.\n');
  console.log('| batch | CPU ms per step | samples/s ceiling | dispatches per step | uniform uploads | submits |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const batch of batches) {
    const run = spawnSync(process.execPath, [WORKER, String(batch)], { encoding: 'utf8' });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !line.startsWith('{')) {
      console.log(`| ${batch} | failed (exit ${run.status}): ${run.stderr.trim().split('\n').pop()} | | | | |`);
      continue;
    }
    const cost = JSON.parse(line) as IssueCost;
    console.log(`| ${batch} | ${cost.msPerStep.toFixed(2)} | ${cost.samplesPerSecondCeiling.toLocaleString('en-US')} | ${cost.dispatches} | ${cost.uploads} | ${cost.submits} |`);
  }
}
