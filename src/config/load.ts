import { readFileSync } from 'node:fs';
import { Document, isMap, isPair, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import type { Problem } from '../errors.js';

/** A parsed experiment file that still knows where every value came from. */
export interface SourceFile {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function readSourceFile(file: string): SourceFile | Problem {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(error);
    return { file, message: `cannot read the experiment file: ${reason}`, hint: 'check the path; experiment files usually live in experiments/' };
  }
  return parseSource(file, text);
}

/** Parses YAML text; the first YAML syntax problem (tabs, bad indentation, duplicate keys) comes back as a Problem. */
export function parseSource(file: string, text: string): SourceFile | Problem {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const offset = first.pos[0];
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, message: yamlMessage(first.code, first.message, text, offset), hint: yamlHint(first.code, text, offset) };
  }
  return { file, text, doc, lines };
}

function yamlMessage(code: string, message: string, text: string, offset: number): string {
  if (code === 'DUPLICATE_KEY') return `duplicate key ${JSON.stringify(keyAt(text, offset))}: every key may appear once in a mapping`;
  if (code === 'TAB_AS_INDENT' || text.slice(lineStart(text, offset), offset + 1).includes('\t')) return 'tab character used for indentation; YAML indents with spaces';
  // The yaml package's own text is good but ends with a position we print ourselves.
  return `YAML syntax error: ${message.replace(/ at line \d+, column \d+.*$/s, '')}`;
}

function yamlHint(code: string, text: string, offset: number): string {
  if (code === 'DUPLICATE_KEY') return 'remove one of the two entries (or, in a sweep, merge their value lists)';
  if (text.slice(lineStart(text, offset), offset + 1).includes('\t')) return 'replace the tabs with spaces';
  return 'check the indentation of this line and the one above it, and that every { or [ is closed';
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
}

function keyAt(text: string, offset: number): string {
  return /^\s*([^:\s]+)/.exec(text.slice(offset))?.[1] ?? '?';
}

/** Line and column of the value at `segments`, or of the nearest ancestor the document has. */
export function positionOf(source: SourceFile, segments: readonly (string | number)[], preferKey?: string): { line: number; column: number } | undefined {
  let node: unknown = source.doc.contents;
  let found: Node | undefined = node as Node;
  for (const segment of segments) {
    if (!node || typeof node !== 'object' || !('get' in node)) break;
    const next = (node as { get(k: unknown, keep: true): unknown }).get(segment, true);
    if (next === undefined) break;
    node = next;
    found = next as Node;
  }
  if (preferKey && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === preferKey);
    if (pair && isScalar(pair.key) && pair.key.range) found = pair.key;
  }
  const start = found?.range?.[0];
  if (start === undefined) return undefined;
  const { line, col } = source.lines.linePos(start);
  return { line, column: col };
}
