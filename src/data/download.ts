import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { IDX_FILES } from './locate.js';

const MIRROR = 'https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

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
    log(`downloading ${MIRROR}${name}`);
    const response = await fetch(MIRROR + name, { signal: AbortSignal.timeout(120_000) });
    if (!response.ok) throw new Error(`${MIRROR}${name}: HTTP ${response.status}`);
    const body = new Uint8Array(await response.arrayBuffer());
    if (!contentMatches(name, body)) throw new Error(`${MIRROR}${name}: checksum mismatch, the download is corrupt`);
    const partial = join(dir, `${name}.partial`);
    writeFileSync(partial, body);
    renameSync(partial, join(dir, name));
  }
}
