/** A small CNN swept over learning rates: the bench's sweep-overhead and parallel-trial experiments. */
export function tinySweep(name: string, trainLimit: number, epochs: number, rates: number[]): string {
  return `name: ${name}
data: { trainLimit: ${trainLimit}, testLimit: 500 }
model:
  layers:
    - { type: conv2d, filters: 8, kernelSize: 3, padding: same, activation: relu }
    - { type: maxPooling2d, poolSize: 2 }
    - { type: flatten }
    - { type: dense, units: 10, activation: softmax }
train: { epochs: ${epochs}, batchSize: 32 }
sweep:
  train.optimizer.learningRate: [${rates.join(', ')}]
`;
}
