/**
 * Fused optimizer updates for the webgpu backend: subclasses of tfjs's own optimizers whose `applyGradients` issues
 * 1–3 dispatches per variable (4 for centered RMSprop; the stock ones issue 2–14 element-wise kernels) with its
 * scalars as program uniforms (the stock Adam and RMSprop upload a new scalar tensor per use per step). Each gives
 * the stock optimizer's numbers, state (`getWeights`, `setWeights`, `iterations`), `dispose` and class name; off the
 * webgpu backend it runs the stock update.
 */
import type * as tf from '@tensorflow/tfjs';
import type { TrialConfig } from '../../config/resolved.js';
import { FusedAdam } from './optimizer-adam.js';
import { FusedRMSProp } from './optimizer-rmsprop.js';
import { FusedMomentum, FusedSGD } from './optimizer-sgd.js';

export { FusedAdam } from './optimizer-adam.js';
export { FusedRMSProp } from './optimizer-rmsprop.js';
export { FusedMomentum, FusedSGD } from './optimizer-sgd.js';
export { updateCounts as fusedUpdateCounts } from './fused-update.js';

/**
 * The fused counterpart of `createOptimizer(settings)` (src/model/optimizer.ts), same arguments and defaults, or
 * undefined for the optimizers that have none (adagrad, adadelta, adamax: use the stock one).
 */
export function createFusedOptimizer(settings: TrialConfig['train']['optimizer']): tf.Optimizer | undefined {
  const { learningRate: lr, momentum, beta1, beta2, epsilon, rho } = settings;
  switch (settings.name) {
    case 'sgd':
      return momentum ? new FusedMomentum(lr, momentum) : new FusedSGD(lr);
    case 'adam':
      return new FusedAdam(lr, beta1, beta2, epsilon);
    case 'rmsprop':
      return new FusedRMSProp(lr, rho, momentum, epsilon);
    default:
      return undefined;
  }
}
