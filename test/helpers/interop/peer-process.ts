/**
 * Independent peers as child processes: started on loopback, their stdout
 * read line by line, ended by PID in teardown (never by name), every wait
 * bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { Test } from 'tap';

export interface PeerProcess {
  pid: number;
  /** Every stdout line so far. */
  lines: string[];
  stderr(): string;
  /** The first stdout line at index >= `from` (printed or to come) that matches; rejects on timeout or exit. */
  waitForLine(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<RegExpMatchArray>;
  /** Resolves with the exit code when the process ends; rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | null>;
  /** Rejects (with the peer's output) if the process ends before `promise` settles. */
  unlessExited<T>(promise: Promise<T>, what: string): Promise<T>;
}

/** Spawns `command`; the process is SIGKILLed by PID when `t` ends, if still running. */
export function startPeer(t: Test, command: string, args: string[], env: NodeJS.ProcessEnv = {}): PeerProcess {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: string[] = [];
  let stderr = '';
  let exit: number | null | undefined;
  const waiters = new Set<() => void>();
  const wake = (): void => waiters.forEach((waiter) => waiter());
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stdoutDone = once(createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    wake();
  }), 'close');
  // Exit counts once stdout is drained, so no line printed before exiting is missed.
  const exitedPromise = Promise.all([once(child, 'exit'), stdoutDone]).then(([[code]]) => {
    exit = code as number | null;
    wake();
    return exit;
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  spawned.catch(() => {
    exit = null;
    wake();
  });
  t.teardown(() => {
    if (exit === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
  const describe = (): string => `${command} ${args.join(' ')}\nstdout: ${lines.join('\n')}\nstderr: ${stderr}`;
  return {
    get pid() {
      return child.pid ?? -1;
    },
    lines,
    stderr: () => stderr,
    waitForLine(pattern, { from = 0, timeoutMs = 15_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = lines
            .slice(from)
            .map((line) => line.match(pattern))
            .find((found) => found !== null);
          if (match) done(() => resolve(match));
          else if (exit !== undefined) done(() => reject(new Error(`peer exited (${exit}) before printing ${pattern}: ${describe()}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${describe()}`))), timeoutMs);
        const done = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    exited(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`peer still running after ${timeoutMs} ms: ${describe()}`)), timeoutMs);
      });
      return Promise.race([exitedPromise, timeout]).finally(() => clearTimeout(timer));
    },
    unlessExited(promise, what) {
      const gone = exitedPromise.then((code) => Promise.reject(new Error(`peer exited (${code}) before ${what}: ${describe()}`)));
      return Promise.race([promise, gone]);
    },
  };
}

/**
 * A TCP port free on 127.0.0.1 right now, for peers (haproxy, nghttpx) that
 * cannot listen on port 0 and report the port back.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Resolves once something accepts TCP connections on 127.0.0.1:`port`.
 * Proxies print nothing when they are ready, so readiness is a connection
 * that succeeds: each refused attempt is retried after 20 ms, up to `timeoutMs`.
 */
export async function waitForListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
