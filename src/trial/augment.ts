import type { Augmentation } from '../config/experiment.types.js';
import { IMAGE_SIZE, PIXELS } from '../data/classes.js';
import type { SeededRandom } from '../random.js';

/**
 * Augments a batch of 28×28 images in place, on the CPU in plain JavaScript: a batch is a few
 * thousand pixels, so this costs microseconds, needs no kernel any backend might lack, and draws
 * every random choice from the trial's seeded generator.
 */
export function augmentBatch(pixels: Float32Array, count: number, steps: readonly Augmentation[], random: SeededRandom): void {
  if (steps.length === 0) return;
  const scratch = new Float32Array(PIXELS);
  for (let n = 0; n < count; n++) {
    const image = pixels.subarray(n * PIXELS, (n + 1) * PIXELS);
    for (const step of steps) applyStep(image, scratch, step, random);
  }
}

function applyStep(image: Float32Array, scratch: Float32Array, step: Augmentation, random: SeededRandom): void {
  switch (step.type) {
    case 'randomFlip': {
      const mode = step.mode ?? 'horizontal';
      const horizontal = mode !== 'vertical' && random.next() < 0.5;
      const vertical = mode !== 'horizontal' && random.next() < 0.5;
      if (horizontal || vertical) affine(image, scratch, horizontal ? -1 : 1, 0, 0, vertical ? -1 : 1, 0, 0);
      return;
    }
    case 'randomTranslation': {
      const dy = random.uniform(-step.height, step.height) * IMAGE_SIZE;
      const dx = random.uniform(-step.width, step.width) * IMAGE_SIZE;
      affine(image, scratch, 1, 0, 0, 1, dx, dy);
      return;
    }
    case 'randomRotation': {
      const angle = random.uniform(-step.factor, step.factor) * 2 * Math.PI;
      affine(image, scratch, Math.cos(angle), -Math.sin(angle), Math.sin(angle), Math.cos(angle), 0, 0);
      return;
    }
    case 'randomZoom': {
      const zy = 1 + random.uniform(-step.height, step.height);
      const zx = step.width === undefined ? zy : 1 + random.uniform(-step.width, step.width);
      // Sampling at 1/zoom shrinks or enlarges the content around the centre.
      affine(image, scratch, 1 / zx, 0, 0, 1 / zy, 0, 0);
      return;
    }
    case 'gaussianNoise': {
      for (let i = 0; i < image.length; i++) image[i] = image[i]! + step.stddev * random.normal();
      return;
    }
  }
}

/**
 * Resamples `image` through the inverse map (x, y) ↦ A·(x - c, y - c) + c - (dx, dy) with bilinear
 * interpolation about the image centre c; pixels that fall outside are 0 (Keras's constant fill).
 */
function affine(image: Float32Array, scratch: Float32Array, a: number, b: number, c: number, d: number, dx: number, dy: number): void {
  const centre = (IMAGE_SIZE - 1) / 2;
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const u = x - centre - dx;
      const v = y - centre - dy;
      const sx = a * u + b * v + centre;
      const sy = c * u + d * v + centre;
      scratch[y * IMAGE_SIZE + x] = bilinear(image, sx, sy);
    }
  }
  image.set(scratch);
}

function bilinear(image: Float32Array, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= IMAGE_SIZE || yy >= IMAGE_SIZE ? 0 : image[yy * IMAGE_SIZE + xx]!);
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
}
