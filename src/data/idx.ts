import { UserError } from '../errors.js';

/** Reads the IDX format (big-endian header, then unsigned bytes) that MNIST-style datasets ship in. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** A damaged dataset file is the user's to replace, not a bug in the runner; how depends on where the copy came from, which `readLocation` adds. */
export function corruptDataFile(name: string, problem: string): UserError {
  return new UserError(`${name}: ${problem}`);
}

export function parseIdx(buffer: Uint8Array, name: string): IdxArray {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer.byteLength < 4 || view.getUint16(0) !== 0) throw corruptDataFile(name, 'not an IDX file (bad magic number)');
  const type = view.getUint8(2);
  const rank = view.getUint8(3);
  if (type !== UNSIGNED_BYTE) throw corruptDataFile(name, `IDX element type 0x${type.toString(16)} is not unsigned byte`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buffer.byteLength - offset !== size) throw corruptDataFile(name, `IDX header says ${size} values, file has ${buffer.byteLength - offset}`);
  return { dims, data: buffer.subarray(offset) };
}
