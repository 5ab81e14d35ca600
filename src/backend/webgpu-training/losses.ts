import type { TrainingLosses } from '../training-overrides.js';
import { fusedCrossentropy } from './crossentropy.js';

/** The webgpu backend's overrides of tfjs-layers' training losses. */
export const fusedLosses: TrainingLosses = {
  sparseCategoricalCrossentropy: (stock) => fusedCrossentropy(true, stock),
  categoricalCrossentropy: (stock) => fusedCrossentropy(false, stock),
};
