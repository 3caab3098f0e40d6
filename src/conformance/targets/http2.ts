/**
 * The conformance suite's HTTP/2 transport (RFC 8441), written with Node's own
 * http2 client speaking extended CONNECT by hand — independent of src/. Each
 * open() uses a connection of its own so that one case's failure cannot leak
 * into the next; multiplexing is tested separately.
 */
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { isIP } from 'node:net';
import { StreamPeer } from '../stream-peer.js';
import { targetBase, type TargetOptions } from './options.js';
import { HandshakeRejectedError, type ConformanceTarget, type OpenOptions, type RawPeer } from '../target.js';

export interface Http2TargetOptions extends TargetOptions {
  /** https://host:port (TLS, ALPN h2) or http://host:port (h2c prior knowledge) */
  origin: string;
  ca?: string | Buffer | undefined;
  /** do not verify the server's certificate */
  insecure?: boolean;
}

export interface H2ConnectOptions {
  ca?: string | Buffer | undefined;
  insecure?: boolean | undefined;
  /** fail unless the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (default true) */
  requireConnectProtocol?: boolean;
  timeoutMs?: number;
}

/** Connects and waits for the server's SETTINGS, which must allow extended CONNECT (RFC 8441 §3). */
export async function connectH2(origin: string, o: H2ConnectOptions = {}): Promise<ClientHttp2Session> {
  const host = new URL(origin).hostname;
  const session = http2.connect(origin, {
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
    ...(o.insecure ? { rejectUnauthorized: false } : {}),
    // SNI carries names only (RFC 6066 §3); certificates for IP addresses are checked without it
    ...(isIP(host.replace(/^\[|\]$/g, '')) ? {} : { servername: host }),
  });
  session.on('error', () => {});
  const settings = await new Promise<http2.Settings>((resolve, reject) => {
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error('no SETTINGS from the server'));
    }, o.timeoutMs ?? 3000);
    session.once('remoteSettings', (s) => {
      clearTimeout(timer);
      resolve(s);
    });
    session.once('error', reject);
  });
  if ((o.requireConnectProtocol ?? true) && settings.enableConnectProtocol !== true) {
    session.destroy();
    throw new Error('server did not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL');
  }
  return session;
}

/** Sends an extended CONNECT on `session` and resolves with the stream and response headers. */
export function extendedConnect(
  session: ClientHttp2Session,
  origin: string,
  opts: OpenOptions = {},
  overrides: Record<string, string | undefined> = {},
): Promise<{ stream: http2.ClientHttp2Stream; headers: IncomingHttpHeaders }> {
  const url = new URL(origin);
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': url.protocol === 'https:' ? 'https' : 'http',
    ':path': opts.path ?? '/echo',
    ':authority': url.host,
    'sec-websocket-version': '13',
    ...(opts.protocols?.length ? { 'sec-websocket-protocol': opts.protocols.join(', ') } : {}),
    ...(opts.extensions !== undefined ? { 'sec-websocket-extensions': opts.extensions } : {}),
    ...opts.headers,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const stream = session.request(headers, { endStream: false });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no response to the extended CONNECT')), 3000);
    stream.once('response', (response) => {
      clearTimeout(timer);
      resolve({ stream, headers: response });
    });
    stream.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    stream.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`stream closed before a response (RST code ${stream.rstCode})`));
    });
  });
}

export function createHttp2Target(o: Http2TargetOptions): ConformanceTarget {
  const path = o.path ?? '/echo';
  const open = async (opts: OpenOptions = {}): Promise<RawPeer> => {
    const session = await connectH2(o.origin, { ca: o.ca, insecure: o.insecure });
    try {
      const { stream, headers } = await extendedConnect(session, o.origin, { ...opts, path: opts.path ?? path });
      const status = Number(headers[':status']);
      if (status !== 200) {
        stream.destroy();
        throw new HandshakeRejectedError(status, headers as Record<string, string>);
      }
      if (headers['sec-websocket-accept'] !== undefined) throw new Error('Sec-WebSocket-Accept must not be sent over HTTP/2');
      stream.once('close', () => session.close());
      const protocol = headers['sec-websocket-protocol'] as string | undefined;
      const extensions = headers['sec-websocket-extensions'] as string | undefined;
      return new StreamPeer(
        stream,
        {
          status,
          headers: headers as Record<string, string>,
          ...(protocol !== undefined ? { protocol } : {}),
          ...(extensions !== undefined ? { extensions } : {}),
        },
        new Uint8Array(0),
        { defaultTimeoutMs: o.timeoutMs ?? 2000 },
      );
    } catch (error) {
      session.destroy();
      throw error;
    }
  };
  return {
    ...targetBase(o, `h2 ${o.origin}`),
    transport: 'h2',
    raw: { kind: 'h2', origin: o.origin, ca: o.ca, insecure: o.insecure ?? false, path },
    open,
  };
}
