import * as tf from '@tensorflow/tfjs';

/**
 * An optimizer's whole state, for a checkpoint: its step count, every variable it owns outright (Adam's running β
 * powers, Adamax's step counter) and every list of per-weight slots (moments, accumulators), in the order the
 * optimizer indexes them. tfjs's getWeights/setWeights would be the obvious route but fall short of an exact
 * continuation: setWeights recomputes Adam's β powers with pow, which rounds differently from the step-by-step
 * products of an uninterrupted run, and Adamax has neither. Read from the optimizer's own fields, the same code serves
 * every tfjs optimizer and the webgpu backend's subclasses of them, which keep their state in the same fields.
 */

/** One tensor of the state: the variable held in `field`, or the next slot of the list in `field` under `slotName`. */
export interface OptimizerPart {
  field: string;
  slotName?: string;
  tensor: tf.Tensor;
}

export interface OptimizerState {
  iterations: number;
  parts: OptimizerPart[];
}

/** tfjs's OptimizerVariable, as the optimizers keep their slots. */
interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** The optimizer's current state; the tensors are its own variables, to be read before the next step. */
export function optimizerState(optimizer: tf.Optimizer): OptimizerState {
  const parts: OptimizerPart[] = [];
  for (const [field, value] of Object.entries(optimizer)) {
    if (value instanceof tf.Variable) parts.push({ field, tensor: value });
    else if (isSlotList(value)) parts.push(...value.map((slot) => ({ field, slotName: slot.originalName, tensor: slot.variable })));
  }
  return { iterations: optimizer.iterations, parts };
}

/**
 * Puts a saved state into an optimizer of the same kind, fresh or not: slots that the first step would create are
 * created here, as setWeights does. Checks every part against the optimizer first and throws before changing anything
 * when one does not fit.
 */
export function restoreOptimizerState(optimizer: tf.Optimizer, state: OptimizerState): void {
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const part of state.parts) {
    const target = fields[part.field];
    const fits = part.slotName === undefined ? target instanceof tf.Variable && tf.util.arraysEqual(target.shape, part.tensor.shape) : Array.isArray(target);
    if (!fits) {
      const wanted = part.slotName === undefined ? `variable ${part.field} of shape [${part.tensor.shape.join(', ')}]` : `slot list ${part.field}`;
      throw new Error(`the optimizer ${optimizer.getClassName()} has no ${wanted}`);
    }
  }
  const slotLists = new Map<string, Slot[]>();
  for (const part of state.parts) {
    if (part.slotName === undefined) (fields[part.field] as tf.Variable).assign(part.tensor);
    else slotLists.set(part.field, [...(slotLists.get(part.field) ?? []), { originalName: part.slotName, variable: part.tensor.variable(false) }]);
  }
  for (const [field, slots] of slotLists) {
    (fields[field] as Slot[]).forEach((slot) => slot.variable.dispose());
    fields[field] = slots;
  }
  (optimizer as unknown as { iterations_: number }).iterations_ = state.iterations;
}

function isSlotList(value: unknown): value is Slot[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((slot: Partial<Slot> | undefined) => typeof slot?.originalName === 'string' && slot.variable instanceof tf.Variable)
  );
}
