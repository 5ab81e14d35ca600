import type { Problem } from '../errors.js';
import type { Segments } from './config-path.js';
import { positionOf, type SourceFile } from './load.js';

/**
 * Where a value of the loaded experiment was written. A merged mapping or layer list knows the origin of each of
 * its entries (`entries`); below a node without them everything was written in one place, at the same relative path.
 */
export type Origin = FileOrigin | FlagOrigin;

interface Merged {
  entries?: Map<string | number, Origin>;
}

export interface FileOrigin extends Merged {
  kind: 'file';
  source: SourceFile;
  segments: Segments;
}

/** Command-line flags, e.g. `--sweep train.epochs=1,2`: problems name them instead of a line. */
interface FlagOrigin extends Merged {
  kind: 'flag';
  flag: string;
}

export const writtenIn = (source: SourceFile): FileOrigin => ({ kind: 'file', source, segments: [] });

export type ProblemDetails = Omit<Problem, 'file' | 'line' | 'column' | 'inheritedBy'>;

/** A value with where it was written. */
export interface Tree {
  value: unknown;
  origin: FileOrigin;
}

/** Blames a problem on where `origin` was written (with `key`: on that key of the mapping there). */
export type Blame = (origin: FileOrigin, details: ProblemDetails, key?: string) => Problem;

/**
 * A problem placed where `origin` was written (with `key`: at that key of the mapping there, such as an unknown
 * field): at a line of the loaded file or of a file it extends, with the files that inherit it, or on a flag.
 * `chain` lists the loaded file first, then the file it extends, and so on.
 */
export function problemAt(chain: readonly SourceFile[], origin: Origin, details: ProblemDetails, key?: string): Problem {
  const at = key === undefined ? origin : originBelow(origin, key);
  if (at.kind === 'flag') return { ...details, file: chain[0]!.file, message: `${at.flag}: ${details.message}` };
  const { source, segments } = at;
  const position = key !== undefined && segments[segments.length - 1] === key ? positionOf(source, segments.slice(0, -1), key) : positionOf(source, segments);
  const index = chain.findIndex((s) => s.file === source.file);
  const inheritedBy = chain
    .slice(0, Math.max(0, index))
    .map((s) => s.file)
    .reverse();
  return { ...details, file: source.file, ...position, ...(inheritedBy.length > 0 && { inheritedBy }) };
}

/**
 * The origin of `key` below `origin`: the entry a merge recorded for it, else the same place in the same file
 * (where positionOf finds the nearest node that exists, e.g. the mapping a missing field belongs in).
 */
export function originBelow(origin: Origin, key: string | number): Origin {
  const recorded = origin.entries?.get(key);
  if (recorded) return recorded;
  return origin.kind === 'flag' ? { kind: 'flag', flag: origin.flag } : { kind: 'file', source: origin.source, segments: [...origin.segments, key] };
}

/**
 * The files an experiment was read from and where each of its values came from, so that every problem is blamed on
 * the file and line that wrote the value: a field inherited through `extends` on the parent's line, with the chain
 * of files that inherit it; a flag's value on the flag.
 */
export class ExperimentSources {
  /**
   * @param chain the loaded file first, then the file it extends, and so on
   * @param root the origin of the whole merged document
   */
  constructor(
    private readonly chain: readonly SourceFile[],
    private readonly root: Origin,
  ) {}

  /** The file the user named. */
  get file(): string {
    return this.chain[0]!.file;
  }

  /** Where the value at `segments` was written. */
  originOf(segments: Segments): Origin {
    return segments.reduce(originBelow, this.root);
  }

  /** The file that wrote the value at `segments` (the loaded file for a flag's value). */
  fileOf(segments: Segments): string {
    const origin = this.originOf(segments);
    return origin.kind === 'file' ? origin.source.file : this.file;
  }

  /** Records that the value at `segments` was written by `origin` (a command-line flag) rather than a file. */
  setOrigin(segments: Segments, origin: Origin): void {
    let node = this.root;
    for (const [i, segment] of segments.entries()) {
      node.entries ??= new Map();
      const next = i === segments.length - 1 ? origin : originBelow(node, segment);
      node.entries.set(segment, next);
      node = next;
    }
  }

  /**
   * A problem about the value at `segments` (with `key`: about that key of the mapping there, such as an unknown
   * field), placed where that value was written.
   */
  problem(segments: Segments, details: ProblemDetails, key?: string): Problem {
    return problemAt(this.chain, this.originOf(segments), details, key);
  }

  /** Problems of the loaded file first, then of the file it extends, and so on; by line within a file. */
  sort(problems: Problem[]): Problem[] {
    const rank = (p: Problem) => Math.max(0, this.chain.findIndex((s) => s.file === p.file));
    return problems.sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  }
}
