import { closeSync, openSync, readSync } from 'node:fs';
import { Composer, Document, isAlias, isMap, isPair, isScalar, LineCounter, Parser, visit, type CST, type Node, type Pair, type Scalar } from 'yaml';
import type { Problem } from '../errors.js';

/**
 * Limits on an experiment file, so that no input can make the loader run out of memory or stack: a file is a few
 * dozen lines nesting about six levels deep, with a handful of aliases if any.
 */
export const FILE_LIMITS = {
  /** Bytes read at most; a larger file is refused unread (a /dev/zero, a dataset given by mistake). */
  bytes: 1024 * 1024,
  /** Values that aliases may expand to (an alias of an anchored list of aliases counts each): an alias bomb stops here. */
  aliases: 100,
  /** Mappings and lists inside each other. */
  depth: 32,
};

/** A parsed experiment file that still knows where every value came from. */
export interface SourceFile {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** The document as plain data. */
  value: unknown;
}

export function readSourceFile(file: string): SourceFile | Problem {
  let text: string | undefined;
  try {
    text = readAtMost(file, FILE_LIMITS.bytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(error);
    return { file, message: `cannot read the experiment file: ${reason}`, hint: 'check the path; experiment files usually live in experiments/' };
  }
  if (text === undefined) {
    return { file, message: `the file is larger than ${FILE_LIMITS.bytes / 1024 / 1024} MiB, the limit for an experiment file`, hint: 'an experiment is a few dozen lines of YAML; check that this is the file you meant' };
  }
  return parseSource(file, text);
}

/** The file's text, or undefined when it holds more than `limit` bytes; never reads more than that (a device may not end). */
function readAtMost(file: string, limit: number): string | undefined {
  const buffer = Buffer.alloc(limit + 1);
  const fd = openSync(file, 'r');
  try {
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) read = readSync(fd, buffer, length, buffer.length - length, null);
    return length > limit ? undefined : buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses YAML text; the first YAML problem (tabs, bad indentation, duplicate keys, a limit of FILE_LIMITS exceeded,
 * a second document, a merge key) comes back as a Problem.
 */
export function parseSource(file: string, withBom: string): SourceFile | Problem {
  // Editors on Windows may start a file with a byte order mark; counted, it would shift every column of line 1.
  const text = withBom.replace(/^\uFEFF/, '');
  const lines = new LineCounter();
  const at = (offset: number, message: string, hint?: string): Problem => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, message, hint };
  };
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const deep = offsetBeyondDepth(tokens, FILE_LIMITS.depth);
  if (deep !== undefined) {
    return at(deep, `mappings and lists nest more than ${FILE_LIMITS.depth} levels deep here, the limit for an experiment file`, 'an experiment nests about six levels (sweep: → a path → its values → a layer → a list); check the brackets and the indentation');
  }
  // YAML 1.1's merge keys stay off even where a %YAML 1.1 directive would turn them on: they are refused below.
  const [doc, second] = new Composer({ uniqueKeys: true, merge: false }).compose(tokens, true, text.length);
  if (second) return at(second.range[0], 'a second YAML document starts here; an experiment file holds one', 'remove the `---` line and what follows it, or move each experiment to a file of its own');
  const first = doc!.errors[0];
  if (first) return at(first.pos[0], yamlMessage(first.code, first.message, text, first.pos[0]), yamlHint(first.code, text, first.pos[0]));
  const merge = firstNode(doc!, (node): node is Pair<Scalar> => isPair(node) && isScalar(node.key) && node.key.value === '<<');
  if (merge) return at(merge.key.range![0], 'merge keys (`<<:`) are not supported', 'to share fields between experiments, put them in one file and `extends:` it from the others; or write the fields out here');
  let value: unknown;
  try {
    value = doc!.toJS({ maxAliasCount: FILE_LIMITS.aliases });
  } catch (error) {
    // The yaml package's one check while converting: its alias count (unresolved aliases are parse errors above).
    if (!(error instanceof ReferenceError)) throw error;
    const alias = firstNode(doc!, isAlias);
    return at(alias?.range?.[0] ?? 0, `the aliases of this file (\`*name\`) expand to more than ${FILE_LIMITS.aliases} values, the limit for an experiment file`, 'write the values out, or use fewer aliases; `extends:` shares fields between files');
  }
  return { file, text, doc: doc!, lines, value };
}

/** The first node of the document that `test` accepts, or undefined. */
function firstNode<T>(doc: Document.Parsed, test: (node: unknown) => node is T): T | undefined {
  let found: T | undefined;
  visit(doc, (_, node) => {
    if (!test(node)) return undefined;
    found = node;
    return visit.BREAK;
  });
  return found;
}

/**
 * The offset of the first collection nested deeper than `depth`, found in the parser's token tree with a stack of
 * its own: composing the document recurses once per level and would run out of stack on a deep enough file.
 */
function offsetBeyondDepth(tokens: CST.Token[], depth: number): number | undefined {
  const stack: [CST.Token | null | undefined, number][] = tokens.map((token) => [token, 0]);
  while (stack.length > 0) {
    const [token, level] = stack.pop()!;
    if (token?.type === 'document') stack.push([token.value, level]);
    else if (token?.type === 'block-map' || token?.type === 'block-seq' || token?.type === 'flow-collection') {
      if (level >= depth) return token.offset;
      for (const item of token.items) stack.push([item.key, level + 1], [item.value, level + 1]);
    }
  }
  return undefined;
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
