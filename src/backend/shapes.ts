import * as tf from '@tensorflow/tfjs';

/**
 * Shape-only model builds (validation, plans) need some backend to hold their throwaway weights. In a process
 * that has chosen one (a trial, a test on webgpu) they use it; only a process that has none gets the cpu
 * backend, set synchronously (its initialisation has no await) and without the "install tfjs-node" banner.
 */
export function ensureBackendForShapes(): void {
  if (tf.engine().backendName) return;
  tf.enableProdMode();
  void tf.setBackend('cpu');
}
