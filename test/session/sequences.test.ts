/**
 * Random interleavings of what applications and peers do — send (0 B to
 * 1 MiB, text or binary, compressed or not), ping, pause/resume, close,
 * terminate, a transport that ends or aborts under the session, a peer that
 * stops reading — run over the memory channel and real loopback HTTP/1.1,
 * HTTP/2 and HTTP/3 (fast-check). Invariants, whatever the sequence:
 * nothing throws and the process survives; every send callback is called
 * exactly once; when a side's close frame reached its peer cleanly, every
 * message it sent before arrived before it, in order; each side reports one
 * 'close', clean or 1006-style but consistent; no server session is left open.
 * A failing sequence that fast-check finds goes into REGRESSIONS.
 */
import fc from 'fast-check';
import t from 'tap';
import type { WebSocket } from '../../src/index.js';
import { channelOf, sessionKinds, type SessionKind } from './session-pairs.js';

type Side = 'server' | 'client';
type Command =
  | { kind: 'send'; side: Side; size: number; binary: boolean; compress: boolean }
  | { kind: 'ping'; side: Side }
  | { kind: 'pause'; side: Side }
  | { kind: 'resume'; side: Side }
  | { kind: 'close'; side: Side; code: number }
  | { kind: 'terminate'; side: Side }
  | { kind: 'transportEnd'; side: Side }
  | { kind: 'transportAbort'; side: Side }
  | { kind: 'turn' };

const side = fc.constantFrom<Side>('server', 'client');
const size = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, 125, 126, 2000, 65_535, 65_536) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1024 * 1024 }) },
);
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('send' as const), side, size, binary: fc.boolean(), compress: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ping' as const), side }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), side }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resume' as const), side }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('close' as const), side, code: fc.constantFrom(1000, 1001, 4000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('terminate' as const), side }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transportEnd' as const), side }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transportAbort' as const), side }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'turn' as const }) },
);

/** Sequences that once broke an invariant; they run first, every time. */
const REGRESSIONS: Array<{ deflate: boolean; commands: Command[] }> = [
  // Issue 9 defect 1: a compressed message, then close() at once.
  { deflate: true, commands: [{ kind: 'send', side: 'client', size: 2000, binary: false, compress: true }, { kind: 'close', side: 'client', code: 1000 }] },
  // Issue 9 defect 8: sends, then terminate(): every callback still called once.
  {
    deflate: true,
    commands: [
      { kind: 'send', side: 'server', size: 65_536, binary: true, compress: true },
      { kind: 'send', side: 'server', size: 0, binary: false, compress: false },
      { kind: 'terminate', side: 'server' },
    ],
  },
  // Issue 9 defect 4: a send after the transport ended under the session.
  { deflate: false, commands: [{ kind: 'transportEnd', side: 'client' }, { kind: 'turn' }, { kind: 'send', side: 'server', size: 10, binary: false, compress: false }] },
  // Found by fast-check over HTTP/3: the client's transport ends, the server compresses a message and closes.
  {
    deflate: true,
    commands: [
      { kind: 'transportEnd', side: 'client' },
      { kind: 'send', side: 'server', size: 65_536, binary: false, compress: true },
      { kind: 'close', side: 'server', code: 1000 },
    ],
  },
];

interface SideState {
  ws: WebSocket;
  /** Payload ids of messages send() took while the session was open, in order. */
  accepted: number[];
  callbacks: Map<number, Array<Error | null | undefined>>;
  received: number[];
  closes: Array<{ code: number; reason: string; wasClean: boolean }>;
  /** The close code this side sent with close(), if it did. */
  closeCodeSent: number | null;
}

let nextId = 1;
/** Runs where a clean close let the delivery invariant compare messages: the property must not be vacuous. */
let deliveriesChecked = 0;

/** A payload that carries its id in the first 4 bytes (when it is large enough) so order can be checked. */
function payload(id: number, size: number, binary: boolean): Buffer | string {
  const bytes = Buffer.alloc(size, binary ? 0xab : 0x61);
  if (size >= 4) bytes.writeUInt32BE(id);
  if (!binary) {
    // Text must be valid UTF-8: the id as digits, padded with letters.
    const text = `${id}:`.padEnd(size, 'a').slice(0, size);
    return text;
  }
  return bytes;
}

function idOf(data: Buffer, isBinary: boolean): number {
  if (isBinary) return data.length >= 4 ? data.readUInt32BE(0) : -1;
  const match = /^(\d+):/.exec(data.toString());
  return match ? Number(match[1]) : -1;
}

function track(ws: WebSocket): SideState {
  const state: SideState = { ws, accepted: [], callbacks: new Map(), received: [], closes: [], closeCodeSent: null };
  ws.on('message', (data: Buffer, isBinary: boolean) => state.received.push(idOf(data, isBinary)));
  ws.on('close', (code: number, reason: string) => state.closes.push({ code, reason, wasClean: ws.wasClean }));
  ws.on('error', () => {}); // errors are offered, never required
  return state;
}

async function turn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 2));
}

function apply(states: Record<Side, SideState>, c: Command): void {
  if (c.kind === 'turn') return;
  const s = states[c.side];
  const ws = s.ws;
  switch (c.kind) {
    case 'send': {
      const id = nextId++;
      // Small messages carry no id; they still count for callbacks.
      const trackable = c.binary ? c.size >= 4 : c.size >= `${id}:`.length;
      const wasOpen = ws.readyState === ws.OPEN;
      const calls: Array<Error | null | undefined> = [];
      s.callbacks.set(id, calls);
      ws.send(payload(id, c.size, c.binary), { binary: c.binary, compress: c.compress }, (error) => calls.push(error));
      if (wasOpen && trackable) s.accepted.push(id);
      return;
    }
    case 'ping':
      if (ws.readyState === ws.OPEN) ws.ping('p');
      return;
    case 'pause':
      ws.pause();
      return;
    case 'resume':
      ws.resume();
      return;
    case 'close':
      if (ws.readyState === ws.OPEN) s.closeCodeSent ??= c.code;
      ws.close(c.code);
      return;
    case 'terminate':
      ws.terminate();
      return;
    case 'transportEnd':
      channelOf(ws).end();
      return;
    case 'transportAbort':
      channelOf(ws).abort(new Error('aborted under the session'));
      return;
  }
}

async function run(kind: SessionKind, deflate: boolean, commands: Command[]): Promise<string | null> {
  const pair = await kind.open({ deflate, limits: { closeTimeout: 1000, maxMessageSize: 2 * 1024 * 1024 } });
  const states = { server: track(pair.server), client: track(pair.client) };
  try {
    for (const c of commands) {
      apply(states, c);
      if (c.kind === 'turn') await turn();
    }
    // Let everything settle: both read again and both close; the close timeout bounds a peer that never answers.
    for (const s of Object.values(states)) {
      s.ws.resume();
      if (s.ws.readyState === s.ws.OPEN) s.closeCodeSent ??= 1000;
      s.ws.close(1000);
    }
    await Promise.all(Object.values(states).map((s) => (s.closes.length > 0 ? null : new Promise((resolve) => s.ws.once('close', resolve)))));
    await turn(); // callbacks and late events come by now
    return check(states) ?? (kind.openServerSessions() > 0 ? `${kind.openServerSessions()} server sessions left open` : null);
  } finally {
    await pair.dispose();
  }
}

/** The invariants; returns what broke, or null. */
function check(states: Record<Side, SideState>): string | null {
  for (const [name, s] of Object.entries(states) as Array<[Side, SideState]>) {
    const other = states[name === 'server' ? 'client' : 'server'];
    if (s.closes.length !== 1) return `${name}: ${s.closes.length} 'close' events`;
    const close = s.closes[0]!;
    if (close.wasClean && (close.code === 1006 || close.code === 1008)) return `${name}: clean close with code ${close.code}`;
    for (const [id, calls] of s.callbacks) {
      if (calls.length !== 1) return `${name}: the callback of message ${id} was called ${calls.length} times`;
    }
    // The peer's close frame reached this side cleanly: it came after every message the peer accepted.
    if (close.wasClean && other.closeCodeSent !== null && close.code === other.closeCodeSent) {
      const lost = other.accepted.filter((id) => !s.received.includes(id));
      const delivered = s.received.filter((id) => id !== -1);
      if (other.accepted.length > 0) deliveriesChecked++;
      if (lost.length > 0) return `${name}: clean close, but messages ${lost.join(',')} the ${name === 'server' ? 'client' : 'server'} accepted never arrived`;
      if (delivered.join() !== other.accepted.filter((id) => delivered.includes(id)).join()) return `${name}: messages out of order`;
    }
  }
  return null;
}

for (const entry of sessionKinds.filter((k) => !process.env.SEQUENCES_KIND || k.name === process.env.SEQUENCES_KIND)) {
  t.test(`random sequences over ${entry.name}`, async (t) => {
    const kind = await entry.start();
    t.teardown(() => kind.close());
    for (const [i, { deflate, commands }] of REGRESSIONS.entries()) {
      t.equal(await run(kind, deflate, commands), null, `regression ${i + 1}`);
    }
    const checkedBefore = deliveriesChecked;
    const numRuns = Number(process.env.SEQUENCES_RUNS ?? (entry.name === 'memory' ? 60 : 20));
    const result = await fc.check(
      fc.asyncProperty(fc.boolean(), fc.array(command, { minLength: 1, maxLength: 14 }), async (deflate, commands) => {
        const failure = await run(kind, deflate, commands);
        if (failure !== null) throw new Error(failure);
      }),
      { numRuns, seed: process.env.SEQUENCES_SEED ? Number(process.env.SEQUENCES_SEED) : undefined },
    );
    t.ok(deliveriesChecked - checkedBefore >= numRuns / 10, `${deliveriesChecked - checkedBefore} runs checked delivery before a clean close`);
    t.notOk(result.failed, result.failed ? (fc.defaultReportMessage(result) ?? "a sequence failed") : `${numRuns} random sequences kept every invariant`);
  });
}
