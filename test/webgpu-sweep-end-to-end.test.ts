import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeTemp } from './helpers/cli.js';
import { query, tinyExperiment } from './helpers/sweeps.js';

/** SwiftShader (Debian's chromium package) is a Vulkan implementation on the CPU: Dawn gets an adapter without a GPU. */
const SWIFTSHADER = { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json', XDG_RUNTIME_DIR: '/tmp' };

describe('runner sweep --backend webgpu, end to end through Dawn on SwiftShader', () => {
  it('trains on webgpu on the adapter --gpu names, records the backend and the CPU adapter with gpu = 0, and learns', async () => {
    const dir = tempDir();
    // SwiftShader runs this small CNN at a few hundred samples a second: a slice of 128 images.
    const file = writeTemp('webgpu.yaml', tinyExperiment('webgpu-tiny', '', 'epochs: 2, optimizer: { name: adam, learningRate: 0.01 }', 'trainLimit: 128, testLimit: 100'), dir);
    const db = join(dir, 'runs.sqlite');
    // --gpu picks the adapter whose name contains the text: SwiftShader's is "SwiftShader Device (Subzero)".
    const sweep = await runCli(['sweep', file, '--db', db, '--backend', 'webgpu', '--gpu', 'SwiftShader'], { env: SWIFTSHADER });
    expect(sweep.stderr).toContain('sweep: 1 completed');
    expect(sweep.status).toBe(0);
    const [run] = query<{ backend: string; gpu: number; device_json: string; test_accuracy: number; epochs_done: number }>(db, 'SELECT * FROM runs');
    expect(run!.backend).toBe('webgpu');
    expect(run!.gpu).toBe(0);
    expect(JSON.parse(run!.device_json)).toMatchObject({ vendor: 'google', architecture: 'swiftshader' });
    expect(run!.epochs_done).toBe(2);
    // Two epochs on 128 images beat chance (10%) by far.
    expect(run!.test_accuracy).toBeGreaterThan(0.25);

    const show = await runCli(['show', query<{ id: string }>(db, 'SELECT id FROM runs')[0]!.id, '--db', db]);
    expect(show.stdout).toContain('backend webgpu on swiftshader');
  });

  it('auto does not take a CPU adapter: it says why and trains on wasm', async () => {
    const dir = tempDir();
    const file = writeTemp('auto.yaml', 'name: auto-tiny\ndata: { trainLimit: 64, testLimit: 50 }\nmodel:\n  layers:\n    - { type: flatten }\n    - { type: dense, units: 10, activation: softmax }\ntrain: { epochs: 1, batchSize: 32 }\n', dir);
    const plan = await runCli(['plan', file, '--db', join(dir, 'runs.sqlite')], { env: SWIFTSHADER });
    expect(plan.status).toBe(0);
    expect(plan.stdout + plan.stderr).toMatch(/(wasm|tensorflow) on the CPU \(no GPU backend: .*webgpu: no GPU/);
  });
});
