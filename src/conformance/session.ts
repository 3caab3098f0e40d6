/**
 * Session: the client side of one conformance connection, on top of a RawPeer.
 * It sends hand-made frames, reads server frames while checking every RFC
 * rule a server frame must follow, reassembles (and decompresses) messages,
 * and runs closing handshakes. It knows nothing about the transport.
 */
import type { Assert } from './recorder.js';
import {
  DeflateHistory,
  OP,
  closeFrame,
  concat,
  decodeUtf8,
  deflateMessage,
  equalBytes,
  hex,
  inflateMessage,
  isControl,
  parseClosePayload,
  serverFrameProblems,
  textFrame,
} from './frames.js';
import type { ServerFrame } from './frames.js';
import { PeerEndedError, WaitTimeoutError } from './target.js';
import type { RawPeer } from './target.js';

// ---------------------------------------------------------------------------
// permessage-deflate negotiation (RFC 7692 §7.1)
// ---------------------------------------------------------------------------

export interface ExtensionElement {
  name: string;
  params: Array<[string, string | undefined]>;
}

/**
 * Parse a Sec-WebSocket-Extensions value (RFC 6455 §9.1 grammar, with the
 * quoted-string values RFC 7692 allows). Throws on syntax errors.
 */
export function parseExtensions(value: string): ExtensionElement[] {
  const out: ExtensionElement[] = [];
  const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  // split on commas outside quotes
  const elems: string[] = [];
  let cur = '';
  let q = false;
  for (const ch of value) {
    if (ch === '"') q = !q;
    if (ch === ',' && !q) {
      elems.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (q) throw new Error(`unterminated quoted string in ${JSON.stringify(value)}`);
  elems.push(cur);
  for (const e of elems) {
    if (e.trim() === '') continue;
    const parts = e.split(';').map((p) => p.trim());
    const name = parts[0]!;
    if (!token.test(name)) throw new Error(`bad extension name ${JSON.stringify(name)}`);
    const params: Array<[string, string | undefined]> = [];
    for (const p of parts.slice(1)) {
      const eq = p.indexOf('=');
      const k = (eq === -1 ? p : p.slice(0, eq)).trim();
      if (!token.test(k)) throw new Error(`bad extension parameter ${JSON.stringify(p)}`);
      let v: string | undefined;
      if (eq !== -1) {
        v = p.slice(eq + 1).trim();
        if (v.startsWith('"')) {
          if (!v.endsWith('"') || v.length < 2) throw new Error(`bad quoted value ${JSON.stringify(p)}`);
          v = v.slice(1, -1);
        }
        if (!token.test(v)) throw new Error(`bad extension parameter value ${JSON.stringify(p)}`);
      }
      params.push([k.toLowerCase(), v]);
    }
    out.push({ name: name.toLowerCase(), params });
  }
  return out;
}

export interface NegotiatedDeflate {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** LZ77 window the server promised to stay within (15 if not negotiated) */
  serverMaxWindowBits: number;
  /** LZ77 window we must stay within (15 if not negotiated) */
  clientMaxWindowBits: number;
  /** the raw parameters of the response */
  params: Array<[string, string | undefined]>;
}

/**
 * Validate a permessage-deflate negotiation response against RFC 7692 §7.1
 * and return what was agreed (undefined: not accepted) plus every violation.
 * `offerHadClientMaxWindowBits`: the server may only send client_max_window_bits
 * if an offer contained it (§7.1.2.2).
 */
export function checkDeflateResponse(
  extensionsHeader: string | undefined,
  offerHadClientMaxWindowBits: boolean,
  /** client_max_window_bits=N we offered: we promised to stay within it whatever the response says */
  offeredClientWindow?: number,
): { deflate?: NegotiatedDeflate; problems: string[] } {
  const problems: string[] = [];
  if (extensionsHeader === undefined) return { problems };
  let elems: ExtensionElement[];
  try {
    elems = parseExtensions(extensionsHeader);
  } catch (e) {
    return { problems: [`unparseable Sec-WebSocket-Extensions: ${(e as Error).message}`] };
  }
  const pmd = elems.filter((e) => e.name === 'permessage-deflate');
  if (pmd.length === 0) return { problems };
  if (pmd.length > 1) problems.push('permessage-deflate accepted more than once (RFC 7692 §5)');
  const el = pmd[0]!;
  const seen = new Set<string>();
  const d: NegotiatedDeflate = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    params: el.params,
  };
  for (const [k, v] of el.params) {
    if (seen.has(k)) problems.push(`parameter ${k} repeated (RFC 7692 §7)`);
    seen.add(k);
    switch (k) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (v !== undefined) problems.push(`${k} must not have a value (RFC 7692 §7.1.1)`);
        if (k === 'server_no_context_takeover') d.serverNoContextTakeover = true;
        else d.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
      case 'client_max_window_bits': {
        if (v === undefined || !/^[0-9]+$/.test(v) || Number(v) < 8 || Number(v) > 15 || /^0/.test(v)) {
          problems.push(`${k}=${v ?? '(no value)'}: a response needs a value 8..15 (RFC 7692 §7.1.2)`);
          break;
        }
        if (k === 'server_max_window_bits') d.serverMaxWindowBits = Number(v);
        else {
          d.clientMaxWindowBits = Number(v);
          if (!offerHadClientMaxWindowBits) {
            problems.push('client_max_window_bits in the response but not in the offer (RFC 7692 §7.1.2.2)');
          }
        }
        break;
      }
      default:
        problems.push(`unknown permessage-deflate parameter ${k} (RFC 7692 §7)`);
    }
  }
  if (offeredClientWindow !== undefined) d.clientMaxWindowBits = Math.min(d.clientMaxWindowBits, offeredClientWindow);
  return { deflate: d, problems };
}

// ---------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------

export interface Message {
  opcode: number;
  data: Uint8Array;
  compressed: boolean;
  frames: number;
}

export function describeFrame(f: ServerFrame): string {
  const flags = `${f.fin ? 'FIN' : 'fin=0'}${f.rsv1 ? '+RSV1' : ''}${f.rsv2 ? '+RSV2' : ''}${f.rsv3 ? '+RSV3' : ''}`;
  if (f.opcode === OP.CLOSE) {
    const c = parseClosePayload(f.payload);
    return `close frame (code ${c.code ?? 'none'}, reason ${JSON.stringify(Buffer.from(c.reason).toString('utf8'))}) ${flags}`;
  }
  const names: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 9: 'ping', 10: 'pong' };
  return `${names[f.opcode] ?? `opcode ${f.opcode}`} frame ${flags} ${f.payload.length} bytes [${hex(f.payload, 16)}]`;
}

export class UnexpectedFrameError extends Error {
  override name = 'UnexpectedFrameError';
}

export class Session {
  /** a data message from the server is in progress (fragmented) */
  private inMessage = false;
  private closeReceived = false;
  /** a frame that closeWithin() saw arrive, checked when frame() hands it out */
  private early: ServerFrame | undefined;
  private readonly clientHistory = new DeflateHistory();
  private readonly serverHistory = new DeflateHistory();

  constructor(
    readonly t: Assert,
    readonly peer: RawPeer,
    readonly timeoutMs: number,
    readonly deflate?: NegotiatedDeflate,
  ) {}

  /** one write with all the given frames/bytes */
  send(...chunks: Uint8Array[]): Promise<void> {
    const data = chunks.length === 1 ? chunks[0]! : concat(chunks);
    this.t.comment(`→ ${data.length} bytes in one write [${hex(data, 24)}]`);
    return this.peer.write(data);
  }

  /** each chunk in its own write, waiting for each to be handed to the transport */
  async sendEach(chunks: readonly Uint8Array[]): Promise<void> {
    this.t.comment(`→ ${chunks.length} writes of ${chunks.map((c) => c.length).join('+')} bytes`);
    for (const c of chunks) await this.peer.write(c);
  }

  /** the bytes in pieces of `size` bytes, each its own write */
  async dribble(data: Uint8Array, size = 1): Promise<void> {
    this.t.comment(`→ ${data.length} bytes in ${Math.ceil(data.length / size)} writes of ${size} [${hex(data, 24)}]`);
    for (let i = 0; i < data.length; i += size) await this.peer.write(data.subarray(i, i + size));
  }

  /**
   * Next server frame; throws if it breaks a rule every server frame must
   * follow (masking, minimal length, RSV bits, opcodes, control frame rules,
   * fragmentation order, nothing after a close frame).
   */
  async frame(timeoutMs = this.timeoutMs): Promise<ServerFrame> {
    const f = this.early ?? (await this.peer.nextFrame(timeoutMs));
    this.early = undefined;
    this.t.comment(`← ${describeFrame(f)}`);
    const problems = serverFrameProblems(
      f,
      !!this.deflate && !this.inMessage && (f.opcode === OP.TEXT || f.opcode === OP.BINARY),
    );
    if (this.closeReceived) problems.push('server sent a frame after its close frame (RFC 6455 §5.5.1)');
    if (!isControl(f.opcode)) {
      if (f.opcode === OP.CONT && !this.inMessage) problems.push('server sent a continuation frame with no message in progress');
      if (f.opcode !== OP.CONT && this.inMessage) problems.push('server started a new data message inside a fragmented one');
      this.inMessage = !f.fin;
    }
    if (f.opcode === OP.CLOSE) {
      this.closeReceived = true;
      const c = parseClosePayload(f.payload);
      if (c.code === -1) problems.push('server close frame with a 1-byte payload');
      if (c.code !== undefined && c.code !== -1 && !isSendableCloseCode(c.code)) {
        problems.push(`server sent close code ${c.code}, which must not appear on the wire (RFC 6455 §7.4)`);
      }
      if (decodeUtf8(c.reason) === undefined) problems.push('server close reason is not valid UTF-8 (RFC 6455 §5.5.1)');
    }
    if (problems.length) throw new UnexpectedFrameError(`${describeFrame(f)}: ${problems.join('; ')}`);
    return f;
  }

  /**
   * Whether the server sent something (or ended the transport) within
   * `timeoutMs`; what arrived stays for the next frame(). For fail-fast checks.
   */
  async closeWithin(timeoutMs: number): Promise<boolean> {
    if (this.early) return true;
    try {
      this.early = await this.peer.nextFrame(timeoutMs);
      return true;
    } catch (e) {
      return !(e instanceof WaitTimeoutError);
    }
  }

  /**
   * Autobahn 3.2, 4.1.3, 5.15 …: a valid message, then a violation, in one write.
   * The echo of the valid message should come before the close; a server that
   * fails the connection first is NON-STRICT (it may process the whole write
   * before answering).
   */
  async expectEchoThenFail(opcode: number, data: Uint8Array | string, code: number | readonly number[]): Promise<void> {
    if ((await this.closeWithin(this.timeoutMs)) && this.early?.opcode === OP.CLOSE) {
      this.t.nonStrict('the server failed the connection without echoing the valid message sent before the violation');
    } else {
      await this.expectEcho(opcode, data);
    }
    await this.expectFail(code);
  }

  /** Next complete data message (reassembled, decompressed). Any control frame in between is an error. */
  async message(timeoutMs = this.timeoutMs): Promise<Message> {
    const parts: Uint8Array[] = [];
    let first: ServerFrame | undefined;
    let n = 0;
    for (;;) {
      const f = await this.frame(timeoutMs);
      if (isControl(f.opcode)) {
        throw new UnexpectedFrameError(`expected a data message, got ${describeFrame(f)}`);
      }
      first ??= f;
      n++;
      parts.push(f.payload);
      if (f.fin) break;
    }
    let data = concat(parts);
    if (first.rsv1) {
      const d = this.deflate!;
      try {
        data = inflateMessage(data, {
          windowBits: d.serverMaxWindowBits,
          ...(d.serverNoContextTakeover ? {} : { dictionary: this.serverHistory.bytes }),
        });
      } catch (e) {
        throw new Error(
          `server's compressed message does not inflate with window ${d.serverMaxWindowBits}` +
            `${d.serverNoContextTakeover ? ' and a fresh inflater (server_no_context_takeover)' : ''}: ${(e as Error).message}`,
        );
      }
      if (!d.serverNoContextTakeover) this.serverHistory.append(data);
    }
    if (first.opcode === OP.TEXT && decodeUtf8(data) === undefined) {
      throw new Error('server sent a text message that is not valid UTF-8 (RFC 6455 §8.1)');
    }
    return { opcode: first.opcode, data, compressed: first.rsv1, frames: n };
  }

  /** Assert that the next message is an echo of (opcode, data). */
  async expectEcho(opcode: number, data: Uint8Array | string, timeoutMs = this.timeoutMs): Promise<Message> {
    const want = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const m = await this.message(timeoutMs);
    this.t.equal(m.opcode, opcode, `echo has opcode ${opcode}`);
    if (equalBytes(m.data, want)) this.t.pass(`echo of ${want.length} bytes matches`);
    else this.t.fail(`echo differs: got ${m.data.length} bytes [${hex(m.data)}], want ${want.length} bytes [${hex(want)}]`);
    return m;
  }

  async expectPong(payload: Uint8Array | string, timeoutMs = this.timeoutMs): Promise<void> {
    const want = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    const f = await this.frame(timeoutMs);
    if (f.opcode !== OP.PONG) throw new UnexpectedFrameError(`expected a pong, got ${describeFrame(f)}`);
    this.t.ok(equalBytes(f.payload, want), `pong payload equals the ping's (${want.length} bytes)`);
  }

  /**
   * Expect the server to close with `code` (a list: any of them; 'empty': no
   * payload). Then reply with a close echoing it (unless we initiated), and
   * wait for the server to end the transport: orderly ('end') for a clean
   * close, 'end' or 'reset' after the server failed the connection.
   */
  async expectClose(
    code: number | readonly number[] | 'empty',
    o: {
      reply?: boolean;
      requireOrderlyEnd?: boolean;
      timeoutMs?: number;
      also?: readonly ('empty' | number)[];
      /** the close frame, if the caller already read it with frame() */
      preread?: ServerFrame;
      /** the server is failing the connection: ending the transport without a close frame is NON-STRICT */
      failing?: boolean;
    } = {},
  ): Promise<void> {
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    let f: ServerFrame;
    try {
      f = o.preread ?? (await this.frame(timeoutMs));
    } catch (e) {
      if (e instanceof PeerEndedError) {
        if (o.failing) {
          // RFC 6455 §7.1.7: an endpoint failing the connection SHOULD (not MUST) send a Close frame first
          this.t.nonStrict(`the server failed the connection by ending the transport (${e.how}) without a close frame (${String(code)})`);
          return;
        }
        throw new Error(`expected a close frame (${String(code)}), but the transport ended (${e.how}) without one`);
      }
      throw e;
    }
    if (f.opcode !== OP.CLOSE) {
      throw new UnexpectedFrameError(`expected a close frame (${String(code)}), got ${describeFrame(f)}`);
    }
    const c = parseClosePayload(f.payload);
    const accepted: ('empty' | number)[] = [
      ...(code === 'empty' ? ['empty' as const] : typeof code === 'number' ? [code] : code),
      ...(o.also ?? []),
    ];
    const got = c.code === undefined ? 'empty' : c.code;
    this.t.ok(accepted.includes(got), `server closes with ${accepted.join(' or ')}`, { found: got, wanted: accepted });
    if (o.reply ?? true) {
      await this.peer.write(c.code === undefined ? closeFrame() : closeFrame(c.code));
    }
    const how = await this.peer.ended(timeoutMs);
    this.t.comment(`← transport ended (${how === 'end' ? 'orderly' : 'reset'})`);
    if (o.requireOrderlyEnd ?? false) this.t.equal(how, 'end', 'server ends the transport in an orderly way after the close');
    else this.t.ok(how === 'end' || how === 'reset', `server ends the transport after the close (${how})`);
    // nothing after the close frame
    const extra = await this.peer.nextFrame(0).then(
      (fr) => fr,
      () => undefined,
    );
    if (extra) this.t.fail(`server sent a frame after its close frame: ${describeFrame(extra)}`);
  }

  /** The server must fail the connection with this code. */
  expectFail(code: number | readonly number[], timeoutMs = this.timeoutMs): Promise<void> {
    return this.expectClose(code, { timeoutMs, failing: true });
  }

  /** Close the connection ourselves with 1000 and expect the clean closing handshake. */
  async closeNormally(): Promise<void> {
    await this.send(closeFrame(1000));
    await this.expectClose(1000, { reply: false, requireOrderlyEnd: true });
  }

  /** Echo round trip, then a clean close: proves the connection is still healthy. */
  async expectAliveAndClose(): Promise<void> {
    await this.send(textFrame('still alive?'));
    await this.expectEcho(OP.TEXT, 'still alive?');
    await this.closeNormally();
  }

  /**
   * Compress a message payload for this connection, honouring the negotiated
   * client_max_window_bits and (when allowed) using context takeover, i.e. the
   * previous compressed messages as LZ77 history.
   */
  compress(data: Uint8Array, o: { final?: boolean; takeover?: boolean } = {}): Uint8Array {
    const d = this.deflate;
    if (!d) throw new Error('permessage-deflate was not negotiated');
    const useHistory = (o.takeover ?? true) && !d.clientNoContextTakeover && !o.final;
    const out = deflateMessage(data, {
      windowBits: d.clientMaxWindowBits,
      ...(useHistory ? { dictionary: this.clientHistory.bytes } : {}),
      ...(o.final ? { final: true } : {}),
    });
    if (useHistory) this.clientHistory.append(data);
    else this.clientHistory.reset();
    return out;
  }
}

/** Codes an endpoint may put in a close frame (RFC 6455 §7.4.1/§7.4.2 + IANA registry). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
