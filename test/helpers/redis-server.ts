/**
 * A real `redis-server` (Debian package) for tests: started on a free port
 * with persistence off, stopped and restarted on the same port, killed by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { createClient } from '@redis/client';

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

/** A port nobody listens on right now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL by PID and wait for the exit: clients see the connection drop. */
  kill(): Promise<void>;
  /** Starts a fresh server on the same port (after kill). */
  restart(): Promise<void>;
}

async function launch(port: number, extraArgs: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error(`redis-server did not start in 10 s:\n${output}`)), 10_000);
    const onExit = (code: number | null): void => fail(new Error(`redis-server exited with ${code}:\n${output}`));
    function fail(error: Error): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      reject(error);
    }
    lines.on('line', (line) => {
      output += line + '\n';
      if (line.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        // Keep draining stdout so redis never blocks on a full pipe.
        lines.removeAllListeners('line');
        lines.on('line', () => undefined);
        resolve();
      }
    });
    child.once('exit', onExit);
  });
  child.stderr!.resume();
  return child;
}

export async function startRedis(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = await launch(port, extraArgs);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      const current = child;
      child = null;
      if (current === null || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      process.kill(current.pid!, 'SIGKILL');
      await exited;
    },
    async restart() {
      if (child !== null) throw new Error('redis-server still running');
      child = await launch(port, extraArgs);
    },
  };
}

/**
 * Resolves once `count` connections subscribe to `channel` (PUBSUB NUMSUB):
 * a process subscribes when its first member joins, asynchronously, and a
 * message published before that is (rightly) not delivered to it. Redis
 * sends no event for a subscription, so this asks, at most 200 times.
 */
export async function waitForSubscribers(url: string, channel: string, count: number): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      const reply = (await client.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number];
      if (Number(reply[1]) >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`fewer than ${count} subscribers on ${channel} after 200 checks`);
  } finally {
    await client.close();
  }
}
