/**
 * Runs one case against a connected client and judges what it answered:
 * the server's frames go out as the case says, every client frame is checked
 * (masked, RSV 0, known opcode, fragmentation, UTF-8 of text, nothing after
 * close), and the verdict follows Autobahn's: OK, NON-STRICT, INFORMATIONAL
 * or FAILED, with the reason and what was seen.
 */
import type { CaseResult, Verdict } from '../report-types.js';
import type { ClientConnection, ClientEnd } from './connection.js';
import { OP, FrameParser, closeBody, decodeUtf8, hex, serverFrame, type WireFrame } from './frames.js';
import type { Reply, ServeCase, Step } from './cases.js';
import { ClientInflater, ServerDeflater, describeParams, type DeflateParams } from './deflate.js';

/** How long a case may take unless it says otherwise. */
export const DEFAULT_CASE_TIMEOUT_MS = 2000;
/** Largest frame the server reads: the biggest case echo is 1 MiB. */
const MAX_CLIENT_FRAME = 4 * 1024 * 1024;
/** Lines of observation kept per case, so a chatty client cannot grow a report without bound. */
const MAX_OBSERVED = 40;

const isValidUtf8 = (data: Uint8Array): boolean => decodeUtf8(data) !== undefined;

/** The close frame the client sent: `code` null when its body was empty. */
interface ClientClose {
  code: number | null;
  reason: string;
}

class CaseState {
  readonly replies: Reply[] = [];
  readonly problems: string[] = [];
  readonly observed: string[] = [];
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

  note(line: string): void {
    if (this.observed.length < MAX_OBSERVED) this.observed.push(line);
    else if (this.observed.length === MAX_OBSERVED) this.observed.push('… (more not shown)');
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
        this.replies.push({ kind: 'pong', data: payload });
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
    let data: Buffer = Buffer.concat(parts);
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
    this.replies.push({ kind: opcode === OP.TEXT ? 'text' : 'binary', data });
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

function describe(replies: readonly Reply[]): string {
  if (replies.length === 0) return 'nothing';
  return replies.map((r) => `${r.kind} ${r.data.length} B ${hex(r.data, 16)}`).join(', ');
}

const sameReply = (a: Reply, b: Reply): boolean => a.kind === b.kind && a.data.equals(b.data);

/** How the replies compare with the expected ones: equal, a proper prefix, or different. */
function compareReplies(got: readonly Reply[], expected: readonly Reply[]): 'equal' | 'prefix' | 'different' {
  if (got.length > expected.length || !got.every((reply, i) => sameReply(reply, expected[i]!))) return 'different';
  return got.length === expected.length ? 'equal' : 'prefix';
}

function judge(testCase: ServeCase, state: CaseState): { verdict: Verdict; reason: string } {
  const expect = testCase.expect;
  const codeText = (code: number | null): string => (code === null ? 'an empty close frame' : `close code ${code}`);
  let verdict: Verdict = 'OK';
  let reason: string;
  if (state.problems.length > 0) return { verdict: 'FAILED', reason: `the client sent ${state.problems.join('; ')}` };
  const replies = compareReplies(state.replies, expect.replies);
  if (expect.by === 'server') {
    if (replies !== 'equal') return { verdict: 'FAILED', reason: `expected ${describe(expect.replies)}, got ${describe(state.replies)}` };
    if (state.clientStartedClose) return { verdict: 'FAILED', reason: `the client closed the connection itself with ${codeText(state.clientClose!.code)}` };
    if (!state.clientClose) return { verdict: 'FAILED', reason: state.timedOut ? 'no close frame in answer to ours before the deadline' : `the connection ended (${state.ended}) without a close frame in answer to ours` };
    if (state.clientClose.code === 1000) reason = 'echoed as expected and answered our close with 1000';
    else if (state.clientClose.code === null) {
      // RFC 6455 §5.5.1: the answer "typically" echoes the code; an empty one is allowed.
      verdict = 'NON-STRICT';
      reason = 'answered our close 1000 with an empty close frame';
    } else return { verdict: 'FAILED', reason: `answered our close 1000 with ${codeText(state.clientClose.code)}` };
  } else {
    if (replies === 'different') return { verdict: 'FAILED', reason: `expected ${describe(expect.replies)} before the close, got ${describe(state.replies)}` };
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
      if (!expect.mayCut) return { verdict: 'FAILED', reason: `expected ${describe(expect.replies)} before the close, got ${describe(state.replies)}` };
      verdict = 'NON-STRICT';
      reason += `, but failed before answering ${describe(expect.replies.slice(state.replies.length))}`;
    }
  }
  return { verdict, reason };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function sendSteps(connection: ClientConnection, steps: readonly Step[], stopped: () => boolean): Promise<void> {
  for (const step of steps) {
    if (stopped()) return;
    if ('pauseMs' in step) {
      await pause(step.pauseMs);
      continue;
    }
    const chop = step.chop ?? step.bytes.length;
    for (let at = 0; at < step.bytes.length; at += chop) {
      if (stopped()) return;
      connection.write(step.bytes.subarray(at, at + chop));
      // Autobahn's chopsize: each chop in a write of its own, a turn apart.
      if (at + chop < step.bytes.length) await turn();
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

/** Runs `testCase` on a freshly accepted connection; resolves with its result, never rejects. */
export function runCase(testCase: ServeCase, connection: ClientConnection): Promise<CaseResult> {
  const state = new CaseState();
  state.serverClosed = testCase.serverCloses === true;
  const parser = new FrameParser(MAX_CLIENT_FRAME);
  const started = performance.now();
  const timeoutMs = testCase.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS;
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
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
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
      state.note(`deadline of ${timeoutMs} ms reached`);
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
      if (state.problems.length > 0 || compareReplies(state.replies, testCase.expect.replies) === 'different') return finish();
      checkReplies();
    });
    connection.onEnd((how) => {
      state.ended = how;
      if (!state.clientClose) state.failedEarly = !state.allSent;
      state.note(`client ${how === 'end' ? 'ended' : 'reset'} the connection`);
      finish();
    });
    if (unimplemented) {
      state.note(`server: ${unimplemented}; close 1000`);
      sendClose(closeBody(1000));
    }
    const sent = sendSteps(connection, steps, () => finished).then(() => {
      state.allSent = true;
    });
    // Nothing must come back (unsolicited pongs): the close follows the case's frames after a grace.
    if (testCase.expect.by === 'server' && testCase.expect.replies.length === 0) void sent.then(() => pause(200)).then(checkReplies);
  });
}
