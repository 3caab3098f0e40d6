/**
 * Categories 21 (RFC 8441, WebSockets over HTTP/2) and 22 (RFC 9220, over
 * HTTP/3): the extended CONNECT handshake and how the stream's end maps to
 * the WebSocket — cases no other tool has. Both run the same checks through a
 * small driver per transport (node:http2 for HTTP/2, the project's HTTP/3
 * client layer for HTTP/3; the WebSocket bytes are still the suite's own).
 */
import type { ClientHttp2Session } from 'node:http2';
import { isIP } from 'node:net';
import { OP, textFrame } from '../frames.js';
import { ErrorCode, Flag, FrameType, RawH2, statusOf } from '../h2-raw.js';
import type { CaseContext, CaseDef, Category } from '../case-types.js';
import { Session } from '../session.js';
import { StreamPeer } from '../stream-peer.js';
import type { RawEndpoint, RawPeer } from '../target.js';
import { connectH2, extendedConnect } from '../targets/http2.js';
import { Http3Duplex, StreamResetError, connectH3, extendedConnectH3 } from '../targets/http3.js';
import type { Http3Session } from '../../http3/session.js';
import { H3_MESSAGE_ERROR, H3_REQUEST_CANCELLED } from '../../http3/errors.js';
import { rawH3Request } from '../h3-raw.js';

type Overrides = Record<string, string | undefined>;

/**
 * What the server answered to one extended CONNECT: a status, or a reset of
 * the stream (`code` when known) or of the whole connection (`connection`).
 */
type Answer =
  | { kind: 'status'; status: number; headers: Record<string, string | string[] | undefined>; peer?: RawPeer }
  | { kind: 'reset'; detail: string; code?: number; connection?: boolean };

interface Connection {
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL as the server advertised it */
  readonly connectProtocol: boolean;
  request(path: string, overrides?: Overrides): Promise<Answer>;
  /** resolves true if the server sends GOAWAY within `ms` */
  goaway(ms: number): Promise<boolean>;
  close(): void;
}

interface Driver {
  name: string;
  rfc: string;
  /** the stream's orderly end / abort, as the RFC names them */
  end: string;
  abort: string;
  connect(raw: RawEndpoint): Promise<Connection>;
  /** the stream error code for a malformed request (RFC 9113 §8.1.1 PROTOCOL_ERROR, RFC 9114 §4.1.2 H3_MESSAGE_ERROR) */
  malformedCode: number;
  /** one request that breaks the header rules, on a fresh connection, answered or reset */
  malformed(raw: RawEndpoint, path: string, overrides: Overrides, timeoutMs: number): Promise<Answer>;
  /** an extended CONNECT sent on a fresh connection before the server's SETTINGS were read */
  beforeSettings(raw: RawEndpoint, path: string, timeoutMs: number): Promise<Answer>;
}

/** Resolves true when `emitter` emits `event` within `ms`, false otherwise. */
function eventWithin(emitter: Pick<NodeJS.EventEmitter, 'once' | 'off'>, event: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onEvent = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      resolve(false);
    }, ms);
    emitter.once(event, onEvent);
  });
}

/** The fields of a WebSocket extended CONNECT (RFC 8441 §4, §5), with fields replaced or (undefined) removed. */
function extendedConnectFields(scheme: string, authority: string, path: string, overrides: Overrides = {}): Array<[string, string]> {
  const fields = new Map<string, string>([
    [':method', 'CONNECT'],
    [':protocol', 'websocket'],
    [':scheme', scheme],
    [':path', path],
    [':authority', authority],
    ['sec-websocket-version', '13'],
  ]);
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) fields.delete(name);
    else fields.set(name, value);
  }
  return [...fields];
}

/**
 * One extended CONNECT as raw HTTP/2 frames on a fresh connection, sent after
 * the server's SETTINGS arrived, or (`afterSettings` false) right after our
 * preface, before reading anything.
 */
async function rawH2Request(raw: RawEndpoint, path: string, overrides: Overrides, timeoutMs: number, afterSettings: boolean): Promise<Answer> {
  if (raw.kind !== 'h2') throw new Error('not an HTTP/2 endpoint');
  const url = new URL(raw.origin);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const secure = url.protocol === 'https:';
  const peer = await RawH2.connect({
    host,
    port: Number(url.port || (secure ? 443 : 80)),
    ...(secure ? { tls: { ...(raw.ca !== undefined ? { ca: raw.ca } : {}), rejectUnauthorized: !raw.insecure, ...(isIP(host) ? {} : { servername: host }) } } : {}),
  });
  try {
    if (afterSettings) await peer.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0, { timeoutMs, what: "the server's SETTINGS" });
    peer.headers(1, extendedConnectFields(secure ? 'https' : 'http', url.host, path, overrides));
    const f = await peer.waitFor((x) => (x.streamId === 1 && (x.type === FrameType.HEADERS || x.type === FrameType.RST_STREAM)) || x.type === FrameType.GOAWAY, {
      timeoutMs,
      what: 'an answer to the request',
    });
    if (f.type === FrameType.HEADERS) return { kind: 'status', status: statusOf(f.payload) ?? NaN, headers: {} };
    const goaway = f.type === FrameType.GOAWAY;
    const code = f.payload.readUInt32BE(goaway ? 4 : 0);
    return { kind: 'reset', detail: `${goaway ? 'GOAWAY' : 'RST_STREAM'} code ${code}`, code, connection: goaway };
  } finally {
    peer.destroy();
  }
}

const h2Driver: Driver = {
  name: 'HTTP/2',
  rfc: 'RFC 8441',
  end: 'END_STREAM',
  abort: 'RST_STREAM(CANCEL)',
  malformedCode: ErrorCode.PROTOCOL_ERROR,
  // node:http2 fills in a missing :path and :scheme, and waits for SETTINGS, so these go out as raw frames
  malformed: (raw, path, overrides, timeoutMs) => rawH2Request(raw, path, overrides, timeoutMs, true),
  beforeSettings: (raw, path, timeoutMs) => rawH2Request(raw, path, {}, timeoutMs, false),
  async connect(raw) {
    if (raw.kind !== 'h2') throw new Error('not an HTTP/2 endpoint');
    const session: ClientHttp2Session = await connectH2(raw.origin, { ca: raw.ca, insecure: raw.insecure, requireConnectProtocol: false });
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    return {
      connectProtocol: session.remoteSettings.enableConnectProtocol === true,
      async request(path, overrides = {}) {
        try {
          const { stream, headers } = await extendedConnect(session, raw.origin, { path }, overrides);
          const status = Number(headers[':status']);
          const answer: Answer = { kind: 'status', status, headers };
          if (status >= 200 && status < 300) answer.peer = new StreamPeer(stream, { status, headers }, new Uint8Array(0));
          else stream.destroy();
          return answer;
        } catch (e) {
          return { kind: 'reset', detail: (e as Error).message };
        }
      },
      goaway: (ms) => (goaway ? Promise.resolve(true) : eventWithin(session, 'goaway', ms)),
      close: () => session.destroy(),
    };
  },
};

const authorityOf = (raw: { servername: string; port: number }) => `${raw.servername.includes(':') ? `[${raw.servername}]` : raw.servername}:${raw.port}`;

const h3Driver: Driver = {
  name: 'HTTP/3',
  rfc: 'RFC 9220',
  end: 'FIN',
  abort: 'RESET_STREAM(H3_REQUEST_CANCELLED)',
  malformedCode: H3_MESSAGE_ERROR,
  async beforeSettings(raw, path, timeoutMs) {
    if (raw.kind !== 'h3') throw new Error('not an HTTP/3 endpoint');
    const a = await rawH3Request(raw, extendedConnectFields('https', authorityOf(raw), path), timeoutMs);
    switch (a.kind) {
      case 'response': {
        const headers = Object.fromEntries(a.headers);
        return { kind: 'status', status: Number(headers[':status']), headers };
      }
      case 'reset':
        return { kind: 'reset', detail: `RESET_STREAM 0x${a.code.toString(16)}`, code: a.code };
      case 'connectionClosed':
        return { kind: 'reset', detail: a.detail, connection: true };
      case 'invalid':
        throw new Error(a.detail);
    }
  },
  async malformed(raw, path, overrides) {
    const x = await h3Driver.connect(raw);
    try {
      const a = await x.request(path, overrides);
      if (a.kind === 'status') a.peer?.destroy();
      return a;
    } finally {
      x.close();
    }
  },
  async connect(raw) {
    if (raw.kind !== 'h3') throw new Error('not an HTTP/3 endpoint');
    const session: Http3Session = await connectH3(raw.host, raw.port, { servername: raw.servername, ca: raw.ca, insecure: raw.insecure, requireConnectProtocol: false });
    const settings = await session.waitForSettings();
    const authority = authorityOf(raw);
    return {
      connectProtocol: settings.enableConnectProtocol === true,
      async request(path, overrides = {}) {
        try {
          const { stream, headers } = await extendedConnectH3(session, authority, { path }, Object.entries(overrides));
          const fields = Object.fromEntries(headers);
          const status = Number(fields[':status']);
          const answer: Answer = { kind: 'status', status, headers: fields };
          if (status >= 200 && status < 300) answer.peer = new StreamPeer(new Http3Duplex(stream), { status, headers: fields }, new Uint8Array(0));
          else stream.cancel(H3_REQUEST_CANCELLED);
          return answer;
        } catch (e) {
          return { kind: 'reset', detail: (e as Error).message, ...(e instanceof StreamResetError && e.code !== undefined ? { code: e.code } : {}) };
        }
      },
      goaway: (ms) => (session.goawayReceived !== null ? Promise.resolve(true) : eventWithin(session, 'goaway', ms)),
      close: () => session.close(),
    };
  },
};

const describe = (a: Answer) => (a.kind === 'status' ? `:status ${a.status}` : `stream reset / closed without a response (${a.detail})`);

function extendedConnectCases(d: Driver, id: string, raw: RawEndpoint | undefined): CaseDef[] {
  const skip = raw === undefined ? `the target gives no raw ${d.name} endpoint` : false;
  const path = raw?.path ?? '/';
  const conn = async (c: CaseContext): Promise<Connection> => {
    const x = await d.connect(raw!);
    c.defer(() => x.close());
    c.t.comment(`SETTINGS_ENABLE_CONNECT_PROTOCOL ${x.connectProtocol ? '= 1' : 'absent'}`);
    return x;
  };
  const session = (c: CaseContext, a: Answer): Session => {
    if (a.kind !== 'status' || !a.peer) throw new Error(`the extended CONNECT was not accepted: ${describe(a)}`);
    const peer = a.peer;
    c.defer(() => peer.destroy());
    return new Session(c.t, peer, c.env.timeoutMs);
  };
  /**
   * A malformed request (RFC 9113 §8.1.1 / RFC 9114 §4.1.2): a stream error of
   * the malformed-message type, or a 400 (a server MAY answer before resetting);
   * another 4xx or another reset refuses it too, but says something else.
   */
  const malformed = (n: string, title: string, overrides: Overrides, rule: string): CaseDef => ({
    id: `${id}.${n}`,
    title,
    skip,
    run: async (c) => {
      const a = await d.malformed(raw!, path, overrides, c.env.timeoutMs);
      c.t.comment(`answer: ${describe(a)}`);
      const expected = `400 or a stream error with code ${d.malformedCode}`;
      if (a.kind === 'reset') {
        if (a.connection || a.code !== d.malformedCode) c.t.nonStrict(`${rule}: refused with ${a.detail}, not ${expected}`);
        return;
      }
      const refused = c.t.ok(a.status >= 400 && a.status < 500, `${rule}: ${expected}, not ${a.status}`);
      if (refused && a.status !== 400) c.t.nonStrict(`${rule}: answered ${a.status}, not ${expected}`);
    },
  });
  return [
    {
      id: `${id}.1`,
      title: `the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (${d.rfc} §3)`,
      skip,
      run: async (c) => {
        const x = await conn(c);
        c.t.ok(x.connectProtocol, `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (${d.rfc} §3)`);
      },
    },
    {
      id: `${id}.2`,
      title: `extended CONNECT → 2xx without Sec-WebSocket-Accept; echo; close 1000 then ${d.end} (an orderly end)`,
      skip,
      run: async (c) => {
        const x = await conn(c);
        const a = await x.request(path);
        c.t.comment(`answer: ${describe(a)}`);
        const s = session(c, a);
        if (a.kind === 'status') c.t.equal(a.headers['sec-websocket-accept'], undefined, `no Sec-WebSocket-Accept over ${d.name} (${d.rfc} §5)`);
        await s.send(textFrame('over extended CONNECT'));
        await s.expectEcho(OP.TEXT, 'over extended CONNECT');
        await s.closeNormally();
      },
    },
    {
      id: `${id}.3`,
      title: `unknown :protocol → not 2xx (501 Not Implemented recommended)`,
      skip,
      run: async (c) => {
        const x = await conn(c);
        const a = await x.request(path, { ':protocol': 'x-no-such-protocol' });
        c.t.comment(`answer: ${describe(a)}`);
        if (a.kind === 'reset') return c.t.informational(`the server reset the stream instead of answering 501`);
        c.t.ok(a.status < 200 || a.status >= 300, `an unknown :protocol is not accepted (got ${a.status})`);
        if (a.status !== 501 && (a.status < 200 || a.status >= 300)) c.t.informational(`answered ${a.status}, not 501`);
      },
    },
    malformed('4', 'extended CONNECT without :path → 400 or a malformed-message stream error', { ':path': undefined }, `${d.rfc}: :path MUST be present`),
    malformed('5', 'extended CONNECT without :scheme → 400 or a malformed-message stream error', { ':scheme': undefined }, `${d.rfc}: :scheme MUST be present`),
    {
      id: `${id}.6`,
      title: 'extended CONNECT without sec-websocket-version → 400 or 426, not a WebSocket',
      skip,
      run: async (c) => {
        const x = await conn(c);
        const a = await x.request(path, { 'sec-websocket-version': undefined });
        c.t.comment(`answer: ${describe(a)}`);
        if (a.kind === 'reset') return c.t.nonStrict('the stream was reset instead of answered with 400/426');
        c.t.ok(a.status === 400 || a.status === 426, `RFC 6455 §4.2.1 via ${d.rfc} §5: 400 or 426 (got ${a.status})`);
      },
    },
    {
      id: `${id}.7`,
      title: `the client aborts a WebSocket with ${d.abort}; another WebSocket on the same connection still echoes`,
      skip,
      run: async (c) => {
        const x = await conn(c);
        const first = session(c, await x.request(path));
        await first.send(textFrame('about to be cancelled', { fin: false }));
        first.peer.destroy();
        const second = session(c, await x.request(path));
        await second.send(textFrame('after the abort'));
        await second.expectEcho(OP.TEXT, 'after the abort');
        await second.closeNormally();
      },
    },
    {
      id: `${id}.8`,
      title: `the client ends its side (${d.end}) without a close frame → the server ends the stream too`,
      skip,
      run: async (c) => {
        const x = await conn(c);
        const s = session(c, await x.request(path));
        await s.send(textFrame('then silence'));
        await s.expectEcho(OP.TEXT, 'then silence');
        s.peer.end();
        const how = await s.peer.ended(c.env.timeoutMs * 2);
        c.t.comment(`← stream ended (${how === 'end' ? d.end : 'reset'})`);
      },
    },
    {
      id: `${id}.9`,
      title: 'two WebSockets on one connection echo independently',
      skip,
      run: async (c) => {
        const x = await conn(c);
        const a = session(c, await x.request(path));
        const b = session(c, await x.request(path));
        await b.send(textFrame('to b'));
        await a.send(textFrame('to a'));
        await a.expectEcho(OP.TEXT, 'to a');
        await b.expectEcho(OP.TEXT, 'to b');
        await a.closeNormally();
        await b.send(textFrame('b is still open'));
        await b.expectEcho(OP.TEXT, 'b is still open');
        await b.closeNormally();
      },
    },
    {
      id: `${id}.10`,
      title: 'GOAWAY during a session: open WebSockets keep working (INFORMATIONAL unless the server sends GOAWAY)',
      skip,
      run: async (c) => {
        const x = await conn(c);
        const s = session(c, await x.request(path));
        if (!(await x.goaway(c.env.timeoutMs / 4))) {
          c.t.informational('the server sent no GOAWAY during the session (a server that is shutting down would)');
          return s.closeNormally();
        }
        c.t.comment('← GOAWAY');
        await s.send(textFrame('after GOAWAY'));
        await s.expectEcho(OP.TEXT, 'after GOAWAY');
        await s.closeNormally();
      },
    },
    {
      // A client MUST NOT send :protocol before it has received the setting
      // (RFC 8441 §3, RFC 9220 §3); a server that never sent it would see a
      // malformed request, a stream error. A server that has sent it in its
      // first SETTINGS knows the extension is on and may accept the request.
      // The RFCs do not say what it must do, so only tearing down the whole
      // connection is marked: it goes beyond the stream error they name.
      id: `${id}.11`,
      title: `extended CONNECT sent before the server's SETTINGS were read → an answer or a stream error, not a connection error`,
      skip,
      run: async (c) => {
        const a = await d.beforeSettings(raw!, path, c.env.timeoutMs);
        c.t.comment(`answer: ${describe(a)}`);
        if (a.kind === 'status' && a.status >= 200 && a.status < 300) return;
        if (a.kind === 'reset' && a.connection) return c.t.nonStrict(`the server closed the connection (${a.detail}); ${d.rfc} §3 names a stream error at most`);
        c.t.informational(`the server refused the early extended CONNECT (${describe(a)}) instead of accepting it`);
      },
    },
  ];
}

export const extendedConnectCategories: Category[] = [
  {
    id: '21',
    title: 'WebSockets over HTTP/2 (RFC 8441)',
    transports: ['h2'],
    cases: (env) => extendedConnectCases(h2Driver, '21', env.target.raw?.kind === 'h2' ? env.target.raw : undefined),
  },
  {
    id: '22',
    title: 'WebSockets over HTTP/3 (RFC 9220)',
    transports: ['h3'],
    cases: (env) => extendedConnectCases(h3Driver, '22', env.target.raw?.kind === 'h3' ? env.target.raw : undefined),
  },
];
