import * as tf from '@tensorflow/tfjs';
import { allOnBackend, isWebGPUBackend, type WebGPUBackend } from './webgpu-program.js';

/** tfjs's OptimizerVariable: one state tensor of an optimizer, under the name it is saved with. */
export interface OptimizerVariable {
  originalName: string;
  variable: tf.Variable;
}

/** What `applyGradients` takes: gradients by variable name, or a list of named gradients. */
export type Gradients = Parameters<tf.Optimizer['applyGradients']>[0];

export interface GradientEntry {
  /** The stock optimizers index their state by this position, not by name. */
  index: number;
  name: string;
  value: tf.Variable;
  gradient: tf.Tensor | undefined;
}

/** The variables and gradients of one `applyGradients` call, in the order the stock optimizers walk them. */
export function gradientEntries(variableGradients: Gradients): GradientEntry[] {
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  return names.map((name, index) => ({
    index,
    name,
    value: tf.engine().registeredVariables[name]!,
    gradient: (Array.isArray(variableGradients) ? variableGradients[index]!.tensor : variableGradients[name]) ?? undefined,
  }));
}

/** Creates a zero state variable where the stock optimizer would, with the same name. */
export function ensureState(states: OptimizerVariable[], entry: GradientEntry, suffix: string): tf.Variable {
  states[entry.index] ??= {
    originalName: `${entry.name}/${suffix}`,
    variable: tf.tidy(() => tf.zerosLike(entry.value).variable(false)),
  };
  return states[entry.index]!.variable;
}

/**
 * The webgpu backend when this call can run fused: every variable, gradient and state tensor named is float32 and
 * lives on it. Otherwise (another backend, data still on another backend, another dtype) the stock update runs.
 */
export function fusableBackend(tensors: readonly (tf.Tensor | undefined)[]): WebGPUBackend | undefined {
  const backend = tf.backend();
  if (!isWebGPUBackend(backend)) return undefined;
  return allOnBackend(backend, tensors.filter((t): t is tf.Tensor => t !== undefined)) ? backend : undefined;
}
