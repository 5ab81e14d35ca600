import type * as tf from '@tensorflow/tfjs';

/** `tf.train`'s optimizer factories: what a backend may replace with its own, under the same signatures. */
export type OptimizerFactories = Partial<Pick<typeof tf.train, 'sgd' | 'momentum' | 'adam' | 'rmsprop' | 'adagrad' | 'adadelta' | 'adamax'>>;
