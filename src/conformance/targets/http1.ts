/**
 * HTTP/1.1 (RFC 6455 §4) implementation of the conformance suite's
 * ConformanceTarget: opens a TCP (or TLS) socket, sends an exact upgrade
 * request with a fresh random 16-byte key, checks the 101 response (status,
 * Upgrade, Connection, Sec-WebSocket-Accept, that any selected subprotocol or
 * extension was offered) and hands over the bytes that arrived after the
 * response head to a StreamPeer.
 */
import {
  acceptFor,
  connect,
  headerTokens,
  headerValue,
  hostHeader,
  newKey,
  readResponseHead,
  upgradeRequest,
} from '../http1-raw.js';
import type { Endpoint } from '../http1-raw.js';
import { StreamPeer } from '../stream-peer.js';
import { HandshakeRejectedError } from '../target.js';
import type { ConformanceTarget, OpenOptions } from '../target.js';
import { targetBase, type TargetOptions } from './options.js';

export interface Http1TargetOptions extends Endpoint, TargetOptions {
  /** timeout for connect + handshake, default 3000 ms */
  handshakeTimeoutMs?: number;
}

/** Open one WebSocket connection over HTTP/1.1 and return the raw peer. */
export async function openHttp1(
  ep: Endpoint,
  opts: OpenOptions = {},
  timeouts: { handshakeMs?: number; frameMs?: number } = {},
): Promise<StreamPeer> {
  const hsTimeout = timeouts.handshakeMs ?? 3000;
  const sock = await connect(ep, hsTimeout);
  try {
    const key = newKey();
    const req: Parameters<typeof upgradeRequest>[0] = { host: hostHeader(ep), key };
    if (opts.path !== undefined) req.path = opts.path;
    if (opts.protocols !== undefined) req.protocols = opts.protocols;
    if (opts.extensions !== undefined) req.extensions = opts.extensions;
    if (opts.headers !== undefined) req.headers = opts.headers;
    sock.write(upgradeRequest(req));
    const res = await readResponseHead(sock, hsTimeout);
    if (res.kind === 'closed') {
      throw new Error(`handshake: server closed the connection (${res.how}) before a response head`);
    }
    const { head } = res;
    if (head.status !== 101) throw new HandshakeRejectedError(head.status, head.headers);

    const problems: string[] = [];
    if (head.version !== 'HTTP/1.1') problems.push(`status line version ${head.version}`);
    const upgrade = headerValue(head.headers['upgrade']);
    if (upgrade?.toLowerCase() !== 'websocket') problems.push(`Upgrade: ${upgrade}`);
    if (!headerTokens(head.headers['connection']).some((t) => t.toLowerCase() === 'upgrade')) {
      problems.push(`Connection: ${headerValue(head.headers['connection'])}`);
    }
    const accept = head.headers['sec-websocket-accept'];
    if (accept !== acceptFor(key)) problems.push(`Sec-WebSocket-Accept ${JSON.stringify(accept)}, expected ${acceptFor(key)}`);
    const protos = headerTokens(head.headers['sec-websocket-protocol']);
    if (protos.length > 1) problems.push(`several subprotocols selected: ${protos.join(', ')}`);
    if (protos.length === 1 && !(opts.protocols ?? []).includes(protos[0]!)) {
      problems.push(`subprotocol ${protos[0]} was not offered`);
    }
    const extensions = headerValue(head.headers['sec-websocket-extensions']);
    if (extensions !== undefined) {
      const offered = new Set(
        headerTokens(opts.extensions).map((e) => e.split(';')[0]!.trim().toLowerCase()),
      );
      for (const e of headerTokens(extensions)) {
        const n = e.split(';')[0]!.trim().toLowerCase();
        if (!offered.has(n)) problems.push(`extension ${n} was not offered`);
      }
    }
    if (problems.length) throw new Error(`invalid 101 response: ${problems.join('; ')}`);

    const info: ConstructorParameters<typeof StreamPeer>[1] = { status: 101, headers: head.headers };
    if (protos[0] !== undefined) info.protocol = protos[0];
    if (extensions !== undefined) info.extensions = extensions;
    const peerOpts: ConstructorParameters<typeof StreamPeer>[3] = {};
    if (timeouts.frameMs !== undefined) peerOpts.defaultTimeoutMs = timeouts.frameMs;
    return new StreamPeer(sock, info, head.rest, peerOpts);
  } catch (e) {
    sock.destroy();
    throw e;
  }
}

export function createHttp1Target(o: Http1TargetOptions): ConformanceTarget {
  const ep: Endpoint = { host: o.host, port: o.port };
  if (o.tls !== undefined) ep.tls = o.tls;
  const path = o.path ?? '/echo';
  return {
    ...targetBase(o, o.tls ? 'https/1.1' : 'http/1.1'),
    transport: 'http/1.1',
    raw: { kind: 'http/1.1', endpoint: ep, path },
    open: (opts = {}) =>
      openHttp1(ep, { ...opts, path: opts.path ?? path }, { handshakeMs: o.handshakeTimeoutMs ?? 3000, frameMs: o.timeoutMs ?? 2000 }),
  };
}
