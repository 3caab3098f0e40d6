/**
 * Builds a Go peer from test/interop/peers/<dir> with Debian's Go and source
 * packages (GO111MODULE=off, GOPATH=/usr/share/gocode: nothing is downloaded).
 * Binaries are cached by a hash of the sources and the Go version, in
 * $TRIDENT_INTEROP_CACHE (default: <tmp>/trident-interop-cache), so CI's runs
 * on several Node versions build each peer once.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PEERS_DIR } from './peers.js';

const run = promisify(execFile);
const built = new Map<string, Promise<string>>();

export const INTEROP_CACHE = process.env.TRIDENT_INTEROP_CACHE ?? join(tmpdir(), 'trident-interop-cache');

/** The path of the built binary for test/interop/peers/`dir`; builds it once per source hash. */
export function goPeer(dir: string): Promise<string> {
  let binary = built.get(dir);
  if (!binary) {
    binary = build(dir);
    built.set(dir, binary);
  }
  return binary;
}

async function build(dir: string): Promise<string> {
  const source = join(PEERS_DIR, dir);
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: process.env.GOCACHE ?? join(INTEROP_CACHE, 'go-build') };
  const { stdout: goVersion } = await run('go', ['version'], { env });
  const hash = createHash('sha256').update(goVersion);
  for (const file of readdirSync(source).filter((name) => name.endsWith('.go')).sort()) {
    hash.update(file).update(readFileSync(join(source, file)));
  }
  const binary = join(INTEROP_CACHE, `${dir.replaceAll('/', '-')}-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(INTEROP_CACHE, { recursive: true });
  // Build beside the target and rename: concurrent runs never see half a binary.
  const partial = `${binary}.${process.pid}.partial`;
  await run('go', ['build', '-o', partial, '.'], { cwd: source, env, timeout: 180_000 });
  renameSync(partial, binary);
  return binary;
}
