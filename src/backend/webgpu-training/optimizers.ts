/**
 * Fused optimizer updates for the webgpu backend: subclasses of tfjs's own optimizers whose `applyGradients` issues
 * one dispatch per variable (the stock ones issue 2–14 element-wise kernels) with its
 * scalars as program uniforms (the stock Adam and RMSprop upload a new scalar tensor per use per step). Each gives
 * the stock optimizer's numbers, state (`getWeights`, `setWeights`, `iterations`), `dispose` and class name; off the
 * webgpu backend it runs the stock update.
 */
import type { OptimizerFactories } from '../optimizer-factories.js';
import { FusedAdam } from './optimizer-adam.js';
import { FusedRMSProp } from './optimizer-rmsprop.js';
import { FusedMomentum, FusedSGD } from './optimizer-sgd.js';

export { FusedAdam } from './optimizer-adam.js';
export { FusedRMSProp } from './optimizer-rmsprop.js';
export { FusedMomentum, FusedSGD } from './optimizer-sgd.js';
export { updateCounts as fusedUpdateCounts } from './fused-update.js';

/**
 * The fused optimizers under `tf.train`'s names and signatures, defaults included: the webgpu backend's overrides
 * of those factories. Adagrad, adadelta and adamax have none and stay stock.
 */
export const fusedTrain: OptimizerFactories = {
  sgd: (learningRate) => new FusedSGD(learningRate),
  momentum: (learningRate, momentum, useNesterov) => new FusedMomentum(learningRate, momentum, useNesterov),
  adam: (learningRate, beta1, beta2, epsilon) => new FusedAdam(learningRate, beta1, beta2, epsilon),
  rmsprop: (learningRate, decay, momentum, epsilon, centered) => new FusedRMSProp(learningRate, decay, momentum, epsilon, centered),
};
