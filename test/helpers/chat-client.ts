/**
 * A chat member for tests of `/chat/<room>` across processes: a WebSocket over
 * a chosen transport that records every text message and waits for counts.
 */
import { once } from 'node:events';
import { WebSocket } from '../../src/index.js';

export type Transport = 'h1' | 'h2' | 'h3';

export interface ChatMember {
  readonly ws: WebSocket;
  readonly received: string[];
  /** Resolves when `count` messages arrived in all; rejects after `timeoutMs`. */
  until(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves with the close code. */
  readonly closed: Promise<number>;
}

export async function joinChat(port: number, room: string, transport: Transport, ca: string): Promise<ChatMember> {
  const ws = new WebSocket(`wss://localhost:${port}/chat/${room}`, { ca, transport, http3IdleTimeout: 100 });
  const received: string[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  ws.on('message', (data: Buffer) => {
    received.push(data.toString());
    for (const waiter of waiters.filter((w) => received.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  await once(ws, 'open');
  return {
    ws,
    received,
    closed,
    until(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timeout: ${received.length} of ${count} messages: ${JSON.stringify(received.slice(-5))}`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}
