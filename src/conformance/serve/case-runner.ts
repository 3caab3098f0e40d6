/**
 * Runs one case against a connected client and judges what it answered:
 * the server's frames go out as the case says, every client frame is checked
 * (masked, RSV 0, known opcode, fragmentation, UTF-8 of text, nothing after
 * close), and the verdict follows Autobahn's: OK, NON-STRICT, INFORMATIONAL
 * or FAILED, with the reason and what was seen.
 */
import type { CaseResult, Verdict } from '../report-types.js';
import type { ClientConnection, ClientEnd } from './connection.js';
import { OP, FrameParser, closeBody, decodeUtf8, hex, serverFrame, serverFrameParts, type WireFrame } from './frames.js';
import type { Reply, ReplyKind, ServeCase, Step } from './cases.js';
import { ClientInflater, ServerDeflater, describeParams, type DeflateParams } from './deflate.js';

/** How long a case may take unless it says otherwise. */
export const DEFAULT_CASE_TIMEOUT_MS = 2000;
/** Largest frame or message the server reads: the biggest case echo is 16 MiB (9.1.6, 9.2.6). */
const MAX_CLIENT_FRAME = 16 * 1024 * 1024;
/** Lines of observation kept per case, so a chatty client cannot grow a report without bound. */
const MAX_OBSERVED = 40;

const isValidUtf8 = (data: Uint8Array): boolean => decodeUtf8(data) !== undefined;

/** The close frame the client sent: `code` null when its body was empty. */
interface ClientClose {
  code: number | null;
  reason: string;
}

/**
 * A client answer as kept for the verdict: kind, size and first bytes. The
 * data itself is compared with the expected answer when it completes and then
 * dropped, so a 16 MiB echo or 1000 round trips are not held.
 */
interface SeenReply {
  kind: ReplyKind;
  size: number;
  head: Buffer;
}

const HEAD_BYTES = 16;
const seen = (kind: ReplyKind, data: Buffer): SeenReply => ({ kind, size: data.length, head: Buffer.from(data.subarray(0, HEAD_BYTES)) });

class CaseState {
  /** Every answer of the client (data messages and pongs), in order. */
  readonly replies: SeenReply[] = [];
  /** How many of the first replies equal the expected ones; the index of the first that does not. */
  private matched = 0;
  mismatchAt: number | undefined = undefined;
  readonly problems: string[] = [];
  readonly observed: string[] = [];
  private notesCut = false;
  clientClose: ClientClose | undefined = undefined;
  /** The client sent its close before we sent ours (it started the closing handshake). */
  clientStartedClose = false;
  serverClosed = false;
  ended: ClientEnd | undefined = undefined;
  /** Every write of the case was made. */
  allSent = false;
  /** The client closed or dropped the connection before the case's last write. */
  failedEarly = false;
  timedOut = false;
  /** permessage-deflate is in force (categories 12, 13): the client's compressed messages are inflated. */
  inflater: ClientInflater | undefined = undefined;
  compressedReplies = 0;
  private message: { opcode: number; parts: Buffer[]; size: number; compressed: boolean } | undefined = undefined;

  constructor(private readonly expected: readonly Reply[]) {}

  /** How the replies compare with the expected ones: equal, a proper prefix, or different. */
  compare(): 'equal' | 'prefix' | 'different' {
    if (this.mismatchAt !== undefined) return 'different';
    return this.matched === this.expected.length ? 'equal' : 'prefix';
  }

  private reply(kind: ReplyKind, data: Buffer): void {
    const at = this.replies.length;
    this.replies.push(seen(kind, data));
    if (this.mismatchAt !== undefined) return;
    const expected = this.expected[at];
    if (expected && expected.kind === kind && expected.data.equals(data)) this.matched++;
    else this.mismatchAt = at;
  }

  /** `always`: an event that happens at most once per case (deadline, end), kept past the limit. */
  note(line: string, always = false): void {
    if (this.observed.length < MAX_OBSERVED || always) this.observed.push(line);
    else if (!this.notesCut) {
      this.notesCut = true;
      this.observed.push('… (more not shown)');
    }
  }

  problem(text: string): void {
    if (!this.problems.includes(text)) this.problems.push(text);
  }

  /** Checks one client frame; returns a completed reply or control frame to act on. */
  take(frame: WireFrame): { ping?: Buffer; close?: ClientClose } {
    const rsv = (frame.rsv1 ? 4 : 0) | (frame.rsv2 ? 2 : 0) | (frame.rsv3 ? 1 : 0);
    const payload = Buffer.from(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength);
    this.note(`client frame: opcode ${frame.opcode}${frame.fin ? '' : ' (FIN=0)'}${frame.masked ? '' : ' UNMASKED'}${rsv ? ` RSV=${rsv}` : ''} ${payload.length} B ${hex(payload, 32)}`);
    if (this.clientClose) this.problem('a frame after its close frame (RFC 6455 §5.5.1)');
    // RFC 6455 §5.1: a client masks every frame it sends.
    if (!frame.masked) this.problem('an unmasked frame (RFC 6455 §5.1: a client masks every frame)');
    // RFC 7692 §6: with permessage-deflate, RSV1 marks a compressed message, on its first frame only.
    const compressed = frame.rsv1 && this.inflater !== undefined && (frame.opcode === OP.TEXT || frame.opcode === OP.BINARY);
    if (frame.rsv1 && this.inflater && !compressed) this.problem(`RSV1 on a frame of opcode ${frame.opcode}: permessage-deflate sets it on the first frame of a data message only (RFC 7692 §6.1)`);
    else if ((rsv & ~4) !== 0 || (frame.rsv1 && !this.inflater)) this.problem(`RSV bits ${rsv} set without a negotiated extension (RFC 6455 §5.2)`);
    if (!frame.minimalLength) this.problem(`a non-minimal ${frame.lengthEncoding}-bit length (RFC 6455 §5.2: the minimal number of bytes)`);
    const control = (frame.opcode & 0x8) !== 0;
    if (control && (!frame.fin || payload.length > 125)) this.problem('a fragmented or oversized control frame (RFC 6455 §5.5)');
    switch (frame.opcode) {
      case OP.TEXT:
      case OP.BINARY:
        if (this.message) this.problem('a new message inside a fragmented one (RFC 6455 §5.4)');
        this.message = { opcode: frame.opcode, parts: [payload], size: payload.length, compressed };
        if (frame.fin) this.completeMessage();
        return {};
      case OP.CONT:
        if (!this.message) {
          this.problem('a continuation frame with nothing to continue (RFC 6455 §5.4)');
          return {};
        }
        this.message.parts.push(payload);
        this.message.size += payload.length;
        if (this.message.size > MAX_CLIENT_FRAME) {
          this.problem(`a message above the test limit of ${MAX_CLIENT_FRAME} bytes`);
          this.message = undefined;
          return {};
        }
        if (frame.fin) this.completeMessage();
        return {};
      case OP.PING:
        return { ping: payload };
      case OP.PONG:
        this.reply('pong', payload);
        return {};
      case OP.CLOSE:
        return { close: this.parseClose(payload) };
      default:
        this.problem(`reserved opcode ${frame.opcode} (RFC 6455 §5.2)`);
        return {};
    }
  }

  private completeMessage(): void {
    const { opcode, parts, compressed } = this.message!;
    this.message = undefined;
    let data: Buffer = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (compressed) {
      try {
        data = this.inflater!.inflate(data);
        this.compressedReplies++;
      } catch (error) {
        this.problem(`a compressed message that does not inflate under the negotiated parameters (RFC 7692 §7.2.2): ${(error as Error).message}`);
        return;
      }
    }
    // RFC 6455 §8.1: a text message is UTF-8; the client must not send anything else as text.
    if (opcode === OP.TEXT && !isValidUtf8(data)) this.problem('a text message that is not valid UTF-8 (RFC 6455 §8.1)');
    this.reply(opcode === OP.TEXT ? 'text' : 'binary', data);
  }

  private parseClose(body: Buffer): ClientClose {
    if (body.length === 0) return { code: null, reason: '' };
    if (body.length === 1) {
      this.problem('a close frame with a 1-byte body (RFC 6455 §5.5.1)');
      return { code: null, reason: '' };
    }
    const reason = body.subarray(2);
    if (!isValidUtf8(reason)) this.problem('a close reason that is not valid UTF-8 (RFC 6455 §5.5.1)');
    return { code: body.readUInt16BE(0), reason: reason.toString('utf8') };
  }
}

const describeOne = (r: SeenReply): string => `${r.kind} ${r.size} B ${hex(r.head, HEAD_BYTES)}${r.size > HEAD_BYTES ? '…' : ''}`;

/** Answers as a list: the first few of a long one (9.7: 1000 messages) and the count. */
function describe(first: readonly SeenReply[], count = first.length): string {
  if (count === 0) return 'nothing';
  const listed = first.slice(0, count > 3 ? 2 : 3).map(describeOne).join(', ');
  return count > 3 ? `${listed}, … (${count} messages)` : listed;
}

const describeExpected = (replies: readonly Reply[], from = 0): string => describe(replies.slice(from, from + 3).map((r) => seen(r.kind, r.data)), replies.length - from);

/** What the client answered, and where it first differs from the expected answers. */
function describeGot(state: CaseState, expected: readonly Reply[]): string {
  const at = state.mismatchAt;
  if (at === undefined || state.replies.length <= 3) return describe(state.replies);
  const wanted = expected[at] ? describeExpected([expected[at]]) : 'nothing';
  return `${describe(state.replies)}; answer ${at + 1} is ${describeOne(state.replies[at]!)}, expected ${wanted}`;
}

function judge(testCase: ServeCase, state: CaseState): { verdict: Verdict; reason: string } {
  const expect = testCase.expect;
  const codeText = (code: number | null): string => (code === null ? 'an empty close frame' : `close code ${code}`);
  let verdict: Verdict = 'OK';
  let reason: string;
  if (state.problems.length > 0) return { verdict: 'FAILED', reason: `the client sent ${state.problems.join('; ')}` };
  const replies = state.compare();
  if (expect.by === 'server') {
    if (replies !== 'equal') {
      const closed = state.clientStartedClose ? `, then the client closed with ${codeText(state.clientClose!.code)}${state.clientClose!.reason ? ` (${state.clientClose!.reason})` : ''}` : '';
      return { verdict: 'FAILED', reason: `expected ${describeExpected(expect.replies)}, got ${describeGot(state, expect.replies)}${closed}` };
    }
    if (state.clientStartedClose) return { verdict: 'FAILED', reason: `the client closed the connection itself with ${codeText(state.clientClose!.code)}` };
    if (!state.clientClose) return { verdict: 'FAILED', reason: state.timedOut ? 'no close frame in answer to ours before the deadline' : `the connection ended (${state.ended}) without a close frame in answer to ours` };
    if (state.clientClose.code === 1000) reason = 'echoed as expected and answered our close with 1000';
    else if (state.clientClose.code === null) {
      // RFC 6455 §5.5.1: the answer "typically" echoes the code; an empty one is allowed.
      verdict = 'NON-STRICT';
      reason = 'answered our close 1000 with an empty close frame';
    } else return { verdict: 'FAILED', reason: `answered our close 1000 with ${codeText(state.clientClose.code)}` };
  } else {
    if (replies === 'different') return { verdict: 'FAILED', reason: `expected ${describeExpected(expect.replies)} before the close, got ${describeGot(state, expect.replies)}` };
    const expected = expect.codes.map(codeText).join(' or ');
    if (state.clientClose) {
      if (!expect.codes.includes(state.clientClose.code)) return { verdict: 'FAILED', reason: `closed with ${codeText(state.clientClose.code)}, expected ${expected}` };
      reason = `closed with ${codeText(state.clientClose.code)} as expected`;
    } else if (state.ended && !expect.clean) {
      // Autobahn: failing the connection may drop it without a close frame.
      reason = `dropped the connection (${state.ended}) without a close frame; ${expected} expected but not required`;
    } else if (state.ended) {
      return { verdict: 'FAILED', reason: `the connection ended (${state.ended}) without a close frame; expected ${expected}` };
    } else {
      return { verdict: 'FAILED', reason: `the client neither closed nor dropped the connection within ${testCase.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS} ms; expected ${expected}` };
    }
    if (testCase.failFast && !state.failedEarly && verdict === 'OK') {
      // RFC 6455 §8.1 lets a client fail once the message is complete; Autobahn wants it at once.
      verdict = 'NON-STRICT';
      reason += ', but only after the whole message, not when the invalid octet arrived';
    }
    if (replies === 'prefix') {
      if (!expect.mayCut) return { verdict: 'FAILED', reason: `expected ${describeExpected(expect.replies)} before the close, got ${describeGot(state, expect.replies)}` };
      verdict = 'NON-STRICT';
      reason += `, but failed before answering ${describeExpected(expect.replies, state.replies.length)}`;
    }
  }
  return { verdict, reason };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A message's frames (`fragment` payload bytes each) as headers and views of
 * its payload; a fragmented one joined into one buffer, so 65536 fragments
 * are one write, not 131072.
 */
function messageParts(message: Reply, fragment?: number): Buffer[] {
  const data = message.data;
  const size = fragment ?? Math.max(data.length, 1);
  const parts: Buffer[] = [];
  for (let at = 0; at === 0 || at < data.length; at += size) {
    parts.push(...serverFrameParts(at === 0 ? (message.kind === 'text' ? OP.TEXT : OP.BINARY) : OP.CONT, data.subarray(at, at + size), at + size >= data.length));
  }
  return parts.length > 2 ? [Buffer.concat(parts)] : parts;
}

interface StepRunner {
  connection: ClientConnection;
  stopped: () => boolean;
  /** Resolves once the client has answered `count` times in all, or the case ended. */
  repliesReached: (count: number) => Promise<void>;
}

async function sendSteps(steps: readonly Step[], { connection, stopped, repliesReached }: StepRunner): Promise<void> {
  for (const step of steps) {
    if (stopped()) return;
    if ('pauseMs' in step) {
      await pause(step.pauseMs);
      continue;
    }
    if ('untilReplies' in step) {
      await repliesReached(step.untilReplies);
      continue;
    }
    const parts = 'message' in step ? messageParts(step.message, step.fragment) : [step.bytes];
    if (step.chop === undefined) {
      for (const part of parts) connection.write(part);
    } else {
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      for (let at = 0; at < bytes.length; at += step.chop) {
        if (stopped()) return;
        connection.write(bytes.subarray(at, at + step.chop));
        // Autobahn's chopsize: each chop in a write of its own, a turn apart.
        if (at + step.chop < bytes.length) await turn();
      }
    }
    await turn();
  }
}

/** The messages compressed in order (RFC 7692 §7.2.1), RSV1 on each message's first frame only (§6.1), one write per message. */
function compressedSteps(messages: readonly Reply[], params: DeflateParams, fragment: number): Step[] {
  const deflater = new ServerDeflater(params);
  return messages.map(({ kind, data }) => {
    const z = deflater.compress(data);
    const size = fragment === 0 ? Math.max(z.length, 1) : fragment;
    const frames: Buffer[] = [];
    for (let at = 0; at === 0 || at < z.length; at += size) {
      frames.push(serverFrame({ opcode: at === 0 ? (kind === 'text' ? OP.TEXT : OP.BINARY) : OP.CONT, payload: z.subarray(at, at + size), fin: at + size >= z.length, rsv: at === 0 ? 4 : 0 }));
    }
    return { bytes: Buffer.concat(frames) };
  });
}

/**
 * Runs `testCase` on a freshly accepted connection; resolves with its result,
 * never rejects. `maxTimeoutMs` caps the case's deadline (tests of stalled clients).
 */
export function runCase(testCase: ServeCase, connection: ClientConnection, maxTimeoutMs = Infinity): Promise<CaseResult> {
  const state = new CaseState(testCase.expect.replies);
  state.serverClosed = testCase.serverCloses === true;
  const parser = new FrameParser(MAX_CLIENT_FRAME);
  const started = performance.now();
  const timeoutMs = Math.min(testCase.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS, maxTimeoutMs);
  // Categories 12, 13: without permessage-deflate in force the case cannot run (Autobahn: UNIMPLEMENTED).
  const unimplemented = testCase.deflate && !connection.deflate ? `the client offered no permessage-deflate this case could accept (offer: ${connection.extensionOffer ?? 'none'})` : undefined;
  let steps = testCase.send;
  if (testCase.deflate && connection.deflate) {
    state.inflater = new ClientInflater(connection.deflate, MAX_CLIENT_FRAME);
    state.note(`permessage-deflate: ${describeParams(connection.deflate)}`);
    steps = compressedSteps(testCase.expect.replies, connection.deflate, testCase.deflate.fragment);
  }
  return new Promise((resolve) => {
    let finished = false;
    let waiter: { count: number; resolve: () => void } | undefined;
    const wake = (): void => {
      if (waiter && (finished || state.replies.length >= waiter.count)) {
        waiter.resolve();
        waiter = undefined;
      }
    };
    const repliesReached = (count: number): Promise<void> =>
      new Promise((resolve) => {
        waiter = { count, resolve };
        wake();
      });
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      wake();
      const durationMs = Math.round(performance.now() - started);
      let { verdict, reason } = judge(testCase, state);
      if (unimplemented) {
        verdict = 'UNIMPLEMENTED';
        reason = unimplemented;
      } else if (testCase.deflate && verdict !== 'FAILED') {
        reason = `${reason}; ${state.compressedReplies} of ${testCase.expect.replies.length} echoes compressed`;
      }
      if (testCase.informational) {
        reason = `${verdict}: ${reason}`;
        verdict = 'INFORMATIONAL';
      } else if (testCase.timed && verdict === 'OK') reason = `${reason}; ${durationMs} ms`;
      // Whatever remains of the connection goes: a stalled client cannot hold the case.
      if (!state.ended) {
        if (state.clientClose && state.serverClosed) connection.end();
        else connection.abort();
      }
      const [category] = testCase.id.split('.');
      resolve({ id: testCase.id, category: category!, title: testCase.description, transport: connection.transport, verdict, reason, observed: state.observed, durationMs });
    };
    const deadline = setTimeout(() => {
      state.timedOut = true;
      state.note(`deadline of ${timeoutMs} ms reached`, true);
      finish();
    }, timeoutMs);
    const sendClose = (body: Uint8Array): void => {
      if (state.serverClosed) return;
      state.serverClosed = true;
      connection.write(serverFrame({ opcode: OP.CLOSE, payload: body }));
    };
    const checkReplies = (): void => {
      if (testCase.expect.by === 'server' && !state.serverClosed && !state.clientClose && state.replies.length >= testCase.expect.replies.length) {
        state.note('server: close 1000');
        sendClose(closeBody(1000));
      }
    };
    connection.onData((chunk) => {
      if (finished) return;
      let frames: WireFrame[];
      try {
        frames = parser.push(chunk);
      } catch (error) {
        state.problem((error as Error).message);
        finish();
        return;
      }
      for (const frame of frames) {
        const action = state.take(frame);
        if (action.ping) connection.write(serverFrame({ opcode: OP.PONG, payload: action.ping }));
        if (action.close && !state.clientClose) {
          state.clientClose = action.close;
          state.clientStartedClose = !state.serverClosed;
          state.failedEarly = !state.allSent;
          // RFC 6455 §5.5.1: answer a close with a close (echoing a valid code).
          const code = action.close.code;
          sendClose(code !== null && code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? closeBody(code) : closeBody());
        }
      }
      if (state.clientClose) {
        // The rest of this chunk was still checked (a frame after the close is a problem);
        // as the server, end the transport first (RFC 6455 §7.1.1).
        connection.end();
        return finish();
      }
      // The verdict is FAILED already (a broken rule, or an answer that was not
      // expected): end the case now, which also bounds what a client can make us hold.
      if (state.problems.length > 0 || state.compare() === 'different') return finish();
      wake();
      checkReplies();
    });
    connection.onEnd((how) => {
      state.ended = how;
      if (!state.clientClose) state.failedEarly = !state.allSent;
      state.note(`client ${how === 'end' ? 'ended' : 'reset'} the connection`, true);
      finish();
    });
    if (unimplemented) {
      state.note(`server: ${unimplemented}; close 1000`);
      sendClose(closeBody(1000));
    }
    const sent = sendSteps(steps, { connection, stopped: () => finished, repliesReached }).then(() => {
      state.allSent = true;
    });
    // Nothing must come back (unsolicited pongs): the close follows the case's frames after a grace.
    if (testCase.expect.by === 'server' && testCase.expect.replies.length === 0) void sent.then(() => pause(200)).then(checkReplies);
  });
}
