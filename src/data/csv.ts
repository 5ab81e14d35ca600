import { UserError } from '../errors.js';
import { CLASS_COUNT, PIXELS, type LabelledImages } from './classes.js';

/**
 * Reads Kaggle's Fashion-MNIST CSV layout: an optional header, then per line a label and 784 pixel values.
 * Parsed by hand with charCode arithmetic because a general CSV parser takes seconds on 60,000 × 785 numbers.
 * A malformed file is the user's to fix (it is their copy), so every problem names its file:line.
 */
export function parseImageCsv(text: string, name: string): LabelledImages {
  const lines = text.split('\n');
  const first = lines[0] ?? '';
  const start = /^\s*[A-Za-z"]/.test(first) ? 1 : 0;
  const rows = lines.slice(start).filter((line) => line.trim() !== '');
  const images = new Uint8Array(rows.length * PIXELS);
  const labels = new Uint8Array(rows.length);
  rows.forEach((row, r) => {
    const at = `${name}:${r + start + 1}`;
    let column = 0;
    let value = 0;
    let digits = 0;
    const commit = () => {
      if (digits === 0) throw new UserError(`${at}: empty or non-numeric value in column ${column + 1}`);
      if (value > 255) throw new UserError(`${at}: value ${value} in column ${column + 1} is not a byte`);
      // A label past the last class would only fail later, deep inside one-hot encoding or the confusion matrix.
      if (column === 0 && value >= CLASS_COUNT) throw new UserError(`${at}: label ${value} is not a class; labels are 0 to ${CLASS_COUNT - 1}`);
      if (column === 0) labels[r] = value;
      else if (column <= PIXELS) images[r * PIXELS + column - 1] = value;
      column++;
      value = 0;
      digits = 0;
    };
    for (let i = 0; i < row.length; i++) {
      const c = row.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        value = value * 10 + c - 48;
        digits++;
      } else if (c === 44) commit();
      else if (c !== 13 && c !== 32) throw new UserError(`${at}: unexpected character ${JSON.stringify(row[i])}`);
    }
    commit();
    if (column !== PIXELS + 1) throw new UserError(`${at}: expected a label and ${PIXELS} pixels, found ${column} columns`);
  });
  return { images, labels, count: rows.length };
}
