/** Where in a user's file a problem is, and what to do about it. */
export interface Problem {
  file: string;
  line?: number;
  column?: number;
  /** Path inside the document, e.g. `model.layers[3].units`. */
  path?: string;
  message: string;
  hint?: string;
  /** When `file` is a parent the loaded experiment extends: the files that inherit the value, nearest first. */
  inheritedBy?: string[];
}

/** A mistake the user can fix (bad file, bad flag, missing dataset): exit code 2, no stack trace. */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string, readonly problems: Problem[] = []) {
    super(message);
    this.name = 'UserError';
  }
}

/** Something went wrong while running (training crashed, trials failed): exit code 1. */
export class RuntimeFailure extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeFailure';
  }
}
