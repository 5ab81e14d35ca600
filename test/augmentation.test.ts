import { describe, expect, it } from 'vitest';
import { augmentBatch } from '../src/trial/augment.js';
import { SeededRandom } from '../src/random.js';

/** A 28×28 image with one bright pixel at (x, y). */
function dot(x: number, y: number): Float32Array {
  const image = new Float32Array(784);
  image[y * 28 + x] = 1;
  return image;
}

const brightest = (image: Float32Array) => {
  const i = image.indexOf(Math.max(...image));
  return { x: i % 28, y: Math.floor(i / 28) };
};

describe('training-batch augmentation', () => {
  it('a horizontal flip mirrors pixels exactly', () => {
    // Find a seed whose first draw flips.
    let seed = 0;
    while (new SeededRandom(seed).next() >= 0.5) seed++;
    const image = dot(3, 10);
    augmentBatch(image, 1, [{ type: 'randomFlip', mode: 'horizontal' }], new SeededRandom(seed));
    expect(brightest(image)).toEqual({ x: 24, y: 10 });
    expect(image.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('translation moves content by at most the given fraction, in both directions, with zeros coming in', () => {
    const shifts = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const image = dot(14, 14);
      augmentBatch(image, 1, [{ type: 'randomTranslation', height: 0.1, width: 0.1 }], new SeededRandom(seed));
      const { x, y } = brightest(image);
      expect(Math.abs(x - 14)).toBeLessThanOrEqual(3);
      expect(Math.abs(y - 14)).toBeLessThanOrEqual(3);
      // Whole-pixel shifts move the dot intact: nothing else lights up.
      expect(image.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      shifts.add(`${x - 14},${y - 14}`);
    }
    // A no-op translation would leave every dot at 0,0.
    expect(shifts.size).toBeGreaterThan(5);
    expect([...shifts].some((s) => s.startsWith('-'))).toBe(true);
    expect([...shifts].some((s) => /^[1-9]/.test(s))).toBe(true);
  });

  it('the same seed gives the same augmented batch', () => {
    const steps = [
      { type: 'randomRotation' as const, factor: 0.1 },
      { type: 'randomZoom' as const, height: 0.2 },
      { type: 'gaussianNoise' as const, stddev: 0.1 },
    ];
    const run = (seed: number) => {
      const batch = new Float32Array(784 * 4).map((_, i) => (i % 97) / 97);
      augmentBatch(batch, 4, steps, new SeededRandom(seed));
      return batch;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});
