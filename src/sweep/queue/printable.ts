/**
 * Text that came from a job (names, params, errors) for a terminal: whoever can write to the queue could otherwise
 * send escape sequences or carriage returns that rewrite what the operator sees.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}
