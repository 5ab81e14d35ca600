/**
 * Run as a child process by `probeAdapterQuietly`: installs Dawn, asks for an adapter and prints one JSON line.
 * Dawn writes its complaints about unusable drivers straight to this process's stderr, which the parent keeps
 * out of the user's terminal.
 */
import { probeAdapter } from './dawn.js';

const gpu = process.argv[2] || undefined;
process.stdout.write(`${JSON.stringify(await probeAdapter({ gpu }))}\n`);
