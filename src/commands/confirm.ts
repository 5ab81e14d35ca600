import { createInterface } from 'node:readline/promises';
import { UserError } from '../errors.js';

/** Asks a yes/no question on the terminal; without one, `--yes` must answer it (`refusal` says what was not done). */
export async function confirm(question: string, refusal: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UserError(`${refusal} without a confirmation: stdin is not a terminal, so pass --yes`);
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}
