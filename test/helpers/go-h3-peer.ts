/**
 * The independent HTTP/3 WebSocket peer (test/interop/go/, Go on Debian's
 * quic-go): builds it once per source hash into a cache directory and runs it
 * as a child process that takes JSON commands on stdin and reports JSON
 * events on stdout (commands and events: test/interop/go/main.go).
 *
 * A missing Go toolchain or quic-go package makes buildGoPeer() reject, so the
 * cells that need the peer fail instead of being skipped.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE_DIR = fileURLToPath(new URL('../interop/go/', import.meta.url));
const GOPATH = '/usr/share/gocode';
const QUIC_GO_PACKAGE = 'golang-github-lucas-clemente-quic-go-dev';

/** The quic-go version the peer is built with, from Debian's package ("0.29.0-1" → "0.29.0"). */
export async function quicGoVersion(): Promise<string> {
  try {
    const { stdout } = await run('dpkg-query', ['-W', '-f=${Version}', QUIC_GO_PACKAGE]);
    return stdout.trim().replace(/-[^-]+$/, '') || 'unknown';
  } catch {
    return 'unknown';
  }
}

let built: Promise<string> | undefined;

/**
 * Builds the peer (GO111MODULE=off against Debian's Go sources) unless a build
 * of the same sources and quic-go version is cached; resolves with the binary's path.
 */
export function buildGoPeer(): Promise<string> {
  built ??= (async () => {
    const hash = createHash('sha256');
    for (const name of readdirSync(SOURCE_DIR).filter((n) => n.endsWith('.go')).sort()) {
      hash.update(name).update(readFileSync(join(SOURCE_DIR, name)));
    }
    hash.update(await quicGoVersion());
    const dir = join(tmpdir(), `trident-h3peer-${hash.digest('hex').slice(0, 16)}`);
    const binary = join(dir, 'h3peer');
    if (existsSync(binary)) return binary;
    mkdirSync(dir, { recursive: true });
    // Build under a unique name and rename: test files building at once never see half a binary.
    const partial = `${binary}.${process.pid}.partial`;
    try {
      await run('go', ['build', '-o', partial, '.'], {
        cwd: SOURCE_DIR,
        // GOCACHE explicitly: CI may run without a writable HOME, where go build refuses to start.
        env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'trident-go-build-cache') },
        timeout: 300_000,
      });
    } catch (error) {
      const e = error as Error & { stderr?: string; code?: string };
      const why = e.code === 'ENOENT' ? 'the Go toolchain (golang-go) is not installed' : (e.stderr ?? e.message);
      throw new Error(`cannot build the quic-go peer: ${why}`);
    }
    renameSync(partial, binary);
    return binary;
  })();
  return built;
}

export type PeerEvent = Record<string, unknown> & { event: string };
export type PeerCommand = Record<string, unknown> & { cmd: string };

/** One running peer process. Events are queued and each is taken by one waitFor(). */
export class GoPeer {
  private readonly child: ChildProcess;
  private readonly queue: PeerEvent[] = [];
  private waiters: Array<{ match: (e: PeerEvent) => boolean; resolve: (e: PeerEvent) => void }> = [];
  private readonly exited: Promise<number | null>;
  /** every event seen, for diagnostics */
  readonly log: PeerEvent[] = [];
  stderr = '';

  private constructor(binary: string, args: string[]) {
    this.child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onEvent(JSON.parse(line) as PeerEvent));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.stdin!.on('error', () => {}); // the peer may exit first
  }

  static async start(args: string[]): Promise<GoPeer> {
    return new GoPeer(await buildGoPeer(), args);
  }

  private onEvent(e: PeerEvent): void {
    this.log.push(e);
    const i = this.waiters.findIndex((w) => w.match(e));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(e);
    else this.queue.push(e);
  }

  /** The first unclaimed event matching `match` (an event name or a predicate), waiting up to `timeoutMs`. */
  waitFor(match: string | ((e: PeerEvent) => boolean), timeoutMs = 10_000): Promise<PeerEvent> {
    const test = typeof match === 'string' ? (e: PeerEvent) => e.event === match : match;
    const i = this.queue.findIndex(test);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: test,
        resolve: (e: PeerEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const last = this.log.slice(-5).map((e) => JSON.stringify(e)).join('\n  ');
        reject(new Error(`no ${typeof match === 'string' ? match : 'matching'} event from the quic-go peer within ${timeoutMs} ms; last events:\n  ${last}\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends a command and waits until the peer finished it; rejects with its error message. */
  async command(cmd: PeerCommand, timeoutMs = 20_000): Promise<void> {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
    const result = await this.waitFor((e) => (e.event === 'done' || e.event === 'failed') && e.cmd === cmd.cmd, timeoutMs);
    if (result.event === 'failed') throw new Error(`quic-go peer: ${cmd.cmd} failed: ${String(result.message)}`);
  }

  /** Ends stdin (the peer shuts down) and waits for the exit; kills this process by PID after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<number | null> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** The payload both sides agree on (test/interop/go/ws.go `pattern`). */
export function pattern(type: 'text' | 'binary', size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = type === 'text' ? 0x61 + (i % 26) : i % 251;
  return b;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
