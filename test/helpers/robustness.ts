/**
 * Pieces shared by the attack tests in test/robustness/: an in-process echo
 * server whose pino output is captured line by line, a bystander session that
 * keeps echoing while an attack runs, and heap measurements after a full GC.
 */
import { once } from 'node:events';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import pino, { type Logger } from 'pino';
import { WebSocket, WebSocketServer, type ClientOptions, type ServerOptions } from '../../src/index.js';
import type { LogLine } from './binary.js';

/** A pino logger writing into `lines` (parsed) and counting the bytes it wrote. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: LogLine[]; bytes: () => number } {
  const lines: LogLine[] = [];
  let bytes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines, bytes: () => bytes };
}

/** An echo server (every message sent back as it came) with captured logs. */
export async function echoServer(
  listen: Parameters<WebSocketServer['listen']>[0],
  options: Partial<ServerOptions> = {},
): Promise<{ wss: WebSocketServer; port: number; lines: LogLine[]; logBytes: () => number }> {
  const { logger, lines, bytes } = captureLogger();
  const wss = new WebSocketServer({ noServer: true, logger, ...options });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, ...listen });
  return { wss, port, lines, logBytes: bytes };
}

export interface BystanderResult {
  /** Echoes received intact. */
  roundTrips: number;
  /** Echoes that came back different. */
  mismatches: number;
  /** The session closed before it was asked to stop. */
  closedEarly: boolean;
  /** Worst round trip seen (reported, never asserted: timing is for the benchmark, not the tests). */
  worstMs: number;
}

/**
 * An ordinary client that echoes sequence-numbered messages, one at a time,
 * until `stop()`; then it closes cleanly.
 */
export async function startBystander(url: string, options: ClientOptions = {}): Promise<{ stop(): Promise<BystanderResult> }> {
  const ws = new WebSocket(url, [], { perMessageDeflate: false, ...options });
  await once(ws, 'open');
  const result: BystanderResult = { roundTrips: 0, mismatches: 0, closedEarly: false, worstMs: 0 };
  let stopping = false;
  const waiter: { onEcho: (() => void) | null } = { onEcho: null };
  const closed = once(ws, 'close');
  void closed.then(() => {
    if (!stopping) result.closedEarly = true;
  });
  const loop = (async () => {
    while (!stopping && !result.closedEarly) {
      const text = `bystander ${result.roundTrips}`;
      const started = performance.now();
      const reply = once(ws, 'message');
      ws.send(text);
      const [data] = (await Promise.race([reply, closed.then(() => [null])])) as [Buffer | null];
      if (data === null) return;
      result.worstMs = Math.max(result.worstMs, performance.now() - started);
      if (data.toString() === text) result.roundTrips++;
      else result.mismatches++;
      waiter.onEcho?.();
    }
  })();
  return {
    async stop() {
      // One more echo after the attack proves the session still works.
      if (!result.closedEarly) {
        await new Promise<void>((resolve) => {
          waiter.onEcho = resolve;
          void closed.then(() => resolve());
        });
      }
      stopping = true;
      await loop;
      if (!result.closedEarly) {
        ws.close(1000);
        await closed;
      }
      return result;
    },
  };
}

const gc = ((): (() => void) => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/**
 * How much the test process's heap (server, bystander and attacker together)
 * may grow during one attack, measured after full GCs. The attacks these tests
 * guard against grew it by hundreds of MiB; a loaded CI machine shows up to
 * ~18 MiB of ordinary noise (TLS contexts, the bystander's thousands of echoes).
 */
export const HEAP_GROWTH_BOUND = 32 * 1024 * 1024;

/** Heap in use after a full garbage collection, in bytes. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
