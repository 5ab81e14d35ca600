import * as tf from '@tensorflow/tfjs';
import { backendOptimizer } from '../backend/select.js';
import type { TrialConfig } from '../config/resolved.js';

/** The configured optimizer: the active backend's own where it has one (same numbers, fewer dispatches), else tfjs's. */
export function createOptimizer(settings: TrialConfig['train']['optimizer']): tf.Optimizer {
  return backendOptimizer(settings) ?? stockOptimizer(settings);
}

function stockOptimizer(settings: TrialConfig['train']['optimizer']): tf.Optimizer {
  const { learningRate: lr, momentum, beta1, beta2, epsilon, rho } = settings;
  switch (settings.name) {
    case 'sgd':
      return momentum ? tf.train.momentum(lr, momentum) : tf.train.sgd(lr);
    case 'adam':
      return tf.train.adam(lr, beta1, beta2, epsilon);
    case 'rmsprop':
      return tf.train.rmsprop(lr, rho, momentum, epsilon);
    case 'adagrad':
      return tf.train.adagrad(lr);
    case 'adadelta':
      return tf.train.adadelta(lr, rho, epsilon);
    case 'adamax':
      return tf.train.adamax(lr, beta1, beta2, epsilon);
  }
}
