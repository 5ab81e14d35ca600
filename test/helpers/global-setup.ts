import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A folder for fixtures that several test files share; built there by the first file that needs one. */
    sharedFixtures: string;
  }
}

/** Runs once per `vitest run`, before any test file: the shared folder lives as long as the run. */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'runner-shared-fixtures-'));
  project.provide('sharedFixtures', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
