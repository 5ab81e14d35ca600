import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { IDX_FILES } from './locate.js';

/**
 * The dataset's own repository. Its S3 *website* endpoint, often quoted, serves plain HTTP only; this one is HTTPS,
 * and the content checksums below reject a corrupt or altered copy from anywhere.
 */
export const MIRROR = 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/';

/**
 * SHA-256 of each file's decompressed bytes. Checked after decompression because mirrors and
 * distributions recompress the archives (Debian's .gz files differ from upstream's, their content does not).
 */
const CONTENT_SHA256: Record<string, string> = {
  [IDX_FILES.trainImages]: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  [IDX_FILES.trainLabels]: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  [IDX_FILES.testImages]: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  [IDX_FILES.testLabels]: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
};

export function contentMatches(name: string, gz: Uint8Array): boolean {
  return createHash('sha256').update(gunzipSync(gz)).digest('hex') === CONTENT_SHA256[name];
}

/** Downloads the four IDX files into `dir`, each written under a temporary name and renamed once verified. */
export async function downloadDataset(dir: string, log: (line: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const name of Object.values(IDX_FILES)) {
    const url = MIRROR + name;
    log(`downloading ${url}`);
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    } catch (error) {
      throw new Error(`${url}: no connection (${networkReason(error)})`);
    }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const body = new Uint8Array(await response.arrayBuffer());
    if (!contentMatches(name, body)) throw new Error(`${url}: checksum mismatch, the download is corrupt`);
    const partial = join(dir, `${name}.partial`);
    writeFileSync(partial, body);
    renameSync(partial, join(dir, name));
  }
}

/** fetch() says only "fetch failed"; the reason (ENOTFOUND, ECONNREFUSED, a timeout) is in its cause. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
