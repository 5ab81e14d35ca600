import { execFileSync } from 'node:child_process';

export interface GitInfo {
  commit?: string;
  branch?: string;
  dirty?: boolean;
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Commit, branch and dirty flag of the checkout at `cwd`; empty outside a git repository. */
export function gitInfo(cwd: string = process.cwd()): GitInfo {
  const commit = git(['rev-parse', 'HEAD'], cwd);
  if (!commit) return {};
  const branch = git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd);
  const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return { commit, branch: branch === 'HEAD' ? `detached@${commit.slice(0, 8)}` : branch, dirty: Boolean(status) };
}

/** The commit a ref names in the checkout at `cwd` (tags, HEAD~1, origin/main), when it names one. */
export function revParse(ref: string, cwd: string = process.cwd()): string | undefined {
  return git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd) || undefined;
}
