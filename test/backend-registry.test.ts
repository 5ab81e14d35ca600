import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, BACKEND_REQUESTS } from '../src/backend/names.js';
import { BACKENDS } from '../src/backend/registry.js';
import { chooseBackend, defaultConcurrency } from '../src/backend/select.js';
import { experimentSchema } from '../src/config/schema.js';
import type { Experiment } from '../src/config/experiment.types.js';

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Compile-time: the schema's generated type and the registry's names are the same set.
const sameNames: Equal<NonNullable<Experiment['backend']>, (typeof BACKEND_REQUESTS)[number]> = true;

describe('the backend registry is the one list of backends', () => {
  it('has one entry per name, in auto order, matching the schema enum and the CLI choices', () => {
    expect(sameNames).toBe(true);
    expect(BACKENDS.map((b) => b.name)).toEqual([...BACKEND_NAMES]);
    expect(experimentSchema.properties!.backend!.enum).toEqual([...BACKEND_REQUESTS]);
  });

  it('auto skips a CPU-only Vulkan adapter and names why, in one line', async () => {
    process.env.VK_ICD_FILENAMES = '/usr/lib/chromium/vk_swiftshader_icd.json';
    const choice = await chooseBackend('auto');
    expect(['wasm', 'tensorflow']).toContain(choice.name);
    expect(choice.reason).toMatch(/webgpu: no GPU/);
    expect(choice.reason).not.toContain('\n');
    expect(defaultConcurrency(choice)).toBeGreaterThanOrEqual(1);
  });

  it('--backend webgpu takes a CPU adapter when asked, and says which', async () => {
    process.env.VK_ICD_FILENAMES = '/usr/lib/chromium/vk_swiftshader_icd.json';
    const choice = await chooseBackend('webgpu');
    expect(choice.name).toBe('webgpu');
    expect(choice.probe.gpu).toBe(false);
    expect(choice.probe.adapter).toMatchObject({ architecture: 'swiftshader', software: true });
    expect(defaultConcurrency(choice)).toBe(1);
  });
});
