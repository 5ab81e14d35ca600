import * as tf from '@tensorflow/tfjs';
import { optimizerFactories } from '../backend/select.js';
import type { TrialConfig } from '../config/resolved.js';

/** The configured optimizer: the active backend's own where it has one (same numbers, fewer dispatches), else tfjs's. */
export function createOptimizer(settings: TrialConfig['train']['optimizer']): tf.Optimizer {
  const train = optimizerFactories();
  const { learningRate: lr, momentum, beta1, beta2, epsilon, rho } = settings;
  switch (settings.name) {
    case 'sgd':
      return momentum ? train.momentum(lr, momentum) : train.sgd(lr);
    case 'adam':
      return train.adam(lr, beta1, beta2, epsilon);
    case 'rmsprop':
      return train.rmsprop(lr, rho, momentum, epsilon);
    case 'adagrad':
      return train.adagrad(lr);
    case 'adadelta':
      return train.adadelta(lr, rho, epsilon);
    case 'adamax':
      return train.adamax(lr, beta1, beta2, epsilon);
  }
}
