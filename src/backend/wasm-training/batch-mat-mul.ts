import { BatchMatMul, getKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { release, transpose } from './wasm-calls.js';

/**
 * wasm's BatchMatMul is fast only without transposes (XNNPACK's layout); with transposeA or transposeB,
 * which every dense layer's backward pass asks for, it is over ten times slower. Transposing the operand
 * first is a cheap copy and keeps the multiply on the fast path.
 */
export function fastTransposedMatMul(wasmConfig: KernelConfig): KernelConfig {
  const original = wasmConfig.kernelFunc;
  const kernelFunc = ({ inputs, attrs, backend }: { inputs: { a: TensorInfo; b: TensorInfo }; attrs: Record<string, unknown>; backend: BackendWasm }): TensorInfo => {
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original({ inputs, attrs: attrs as NamedAttrMap, backend }) as TensorInfo;
    const owned: TensorInfo[] = [];
    const swapLastTwo = (x: TensorInfo) => {
      const perm = x.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1]!, perm[perm.length - 2]!];
      const t = transpose(backend, x, perm);
      owned.push(t);
      return t;
    };
    const a = transposeA ? swapLastTwo(inputs.a) : inputs.a;
    const b = transposeB ? swapLastTwo(inputs.b) : inputs.b;
    const out = original({ inputs: { a, b }, attrs: { ...(attrs as NamedAttrMap), transposeA: false, transposeB: false }, backend }) as TensorInfo;
    release(backend, ...owned);
    return out;
  };
  // wasm's setup function (which binds the XNNPACK call) comes along: it runs when the backend starts.
  return { ...wasmConfig, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** wasm's own BatchMatMul registration, to be wrapped. */
export function wasmBatchMatMul(): KernelConfig {
  const kernel = getKernel(BatchMatMul, 'wasm');
  if (!kernel) throw new Error('wasm kernel BatchMatMul is not registered');
  return kernel;
}
