import { cpSync, existsSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.js';

/**
 * Files and directories a command writes where the user said. The directory they go into must exist already, so
 * that a mistyped path is an error rather than a new tree of directories; what is written appears whole or not at
 * all, being written under a temporary name beside the target and then renamed into place.
 */

/** A file to write (an existing file is replaced); `what` names the flag or argument it came from. */
export function outputFile(path: string, what: string): string {
  const target = resolve(path);
  checkParent(target, path, what);
  if (kindOf(target) === 'directory') throw new UserError(`${what} ${path}: ${target} is a directory; give a file name, e.g. ${join(path, 'report.html')}`);
  return target;
}

/** A directory to create; it must not exist yet. */
export function outputDirectory(path: string, what: string): string {
  const target = resolve(path);
  checkParent(target, path, what);
  if (kindOf(target) !== 'missing') throw new UserError(`${what} ${path}: ${target} already exists; choose another directory`);
  return target;
}

export function writeFileAtomically(target: string, text: string): void {
  const temporary = temporaryBeside(target);
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw cannotWrite(target, error);
  }
}

export function copyDirectoryAtomically(source: string, target: string): void {
  const temporary = temporaryBeside(target);
  try {
    cpSync(source, temporary, { recursive: true });
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw cannotWrite(target, error);
  }
}

/**
 * True when `path` (which may not exist yet; its parent does) is `folder` or lies inside it, symbolic links followed:
 * a link to the folder leads into it as surely as the folder's own path.
 */
export function isInside(path: string, folder: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : join(realpathSync(dirname(p)), basename(p)));
  const steps = relative(real(resolve(folder)), real(resolve(path)));
  return !isAbsolute(steps) && steps.split(sep)[0] !== '..';
}

function checkParent(target: string, path: string, what: string): void {
  const parent = dirname(target);
  const kind = kindOf(parent);
  if (kind === 'missing') throw new UserError(`${what} ${path}: the directory ${parent} does not exist; create it first, or write somewhere else`);
  if (kind === 'not a directory') throw new UserError(`${what} ${path}: ${parent} is not a directory (a file stands in the path)`);
}

/** A path through a regular file (`notes.txt/report.html`) is not a directory either. */
function kindOf(path: string): 'missing' | 'directory' | 'not a directory' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ENOTDIR') return 'not a directory';
    throw cannotWrite(path, error);
  }
}

/** Hidden, and unique to this process, so that two runners writing one target never share a half-written file. */
function temporaryBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
}

function cannotWrite(target: string, error: unknown): UserError {
  return new UserError(`cannot write ${target}: ${(error as Error).message}`);
}
