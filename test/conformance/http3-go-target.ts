/**
 * The conformance suite's HTTP/3 target through an independent stack: each
 * open() is a TCP connection to the quic-go peer in bridge mode
 * (test/interop/go/bridge.go), which carries it as one RFC 9220 WebSocket on
 * its own QUIC connection. So the frame-level verdicts over HTTP/3 do not rest
 * on this project's QUIC driver and HTTP/3 layer alone (./http3-target.ts uses those).
 *
 * Bridge protocol: one JSON request line ({path, headers}), one JSON response
 * line ({status, headers, error}); then raw WebSocket bytes both ways, with
 * TCP FIN ↔ QUIC FIN and TCP RST ↔ RESET_STREAM.
 */
import { connect, type Socket } from 'node:net';
import { StreamPeer } from '../helpers/stream-peer.js';
import { GoPeer } from '../helpers/go-h3-peer.js';
import { HandshakeRejectedError, type ConformanceTarget, type OpenOptions, type RawPeer } from './target.js';

export interface GoBridgeTargetOptions {
  /** trident's HTTP/3 (UDP) port */
  port: number;
  /** file of the CA that signed the server's certificate */
  caFile: string;
  limits: ConformanceTarget['limits'];
  expect?: ConformanceTarget['expect'];
  name?: string;
  timeoutMs?: number;
}

interface BridgeResponse {
  status: string;
  headers: Record<string, string>;
  error?: string;
}

/** Reads the bridge's JSON response line; resolves with it and the bytes after it. */
function readResponseLine(socket: Socket, timeoutMs: number): Promise<{ response: BridgeResponse; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no response from the HTTP/3 bridge within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(0x0a);
      if (end < 0) return;
      finish(undefined, { response: JSON.parse(buffered.subarray(0, end).toString()) as BridgeResponse, rest: buffered.subarray(end + 1) });
    };
    const onEnd = (): void => finish(new Error('the HTTP/3 bridge closed before a response'));
    const finish = (error?: Error, value?: { response: BridgeResponse; rest: Buffer }): void => {
      clearTimeout(timer);
      socket.off('data', onData).off('end', onEnd).off('error', onEnd);
      socket.pause();
      if (error) reject(error);
      else resolve(value!);
    };
    socket.on('data', onData).on('end', onEnd).on('error', onEnd);
  });
}

/**
 * Starts the bridge (building the peer if needed) and returns the target and
 * a stop function. The bridge lives as long as the target.
 */
export async function startGoBridgeTarget(o: GoBridgeTargetOptions): Promise<{ target: ConformanceTarget; stop: () => Promise<void> }> {
  const bridge = await GoPeer.start(['bridge', '-connect', `127.0.0.1:${o.port}`, '-ca', o.caFile, '-listen', '127.0.0.1:0']);
  const bridgePort = (await bridge.waitFor('listening')).port as number;
  const timeoutMs = o.timeoutMs ?? 3000;

  const open = async (opts: OpenOptions = {}): Promise<RawPeer> => {
    const socket = connect({ host: '127.0.0.1', port: bridgePort });
    try {
      const headers: Record<string, string> = {};
      if (opts.protocols?.length) headers['sec-websocket-protocol'] = opts.protocols.join(', ');
      if (opts.extensions !== undefined) headers['sec-websocket-extensions'] = opts.extensions;
      for (const [name, value] of Object.entries(opts.headers ?? {})) headers[name.toLowerCase()] = value;
      socket.write(JSON.stringify({ path: opts.path ?? '/echo', headers }) + '\n');
      const { response, rest } = await readResponseLine(socket, timeoutMs + 2000);
      if (response.error) throw new Error(`HTTP/3 bridge: ${response.error}`);
      const status = Number(response.status);
      if (status !== 200) throw new HandshakeRejectedError(status, response.headers);
      const protocol = response.headers['sec-websocket-protocol'];
      const extensions = response.headers['sec-websocket-extensions'];
      return new StreamPeer(
        socket,
        {
          status,
          headers: response.headers,
          ...(protocol !== undefined ? { protocol } : {}),
          ...(extensions !== undefined ? { extensions } : {}),
        },
        rest,
        { defaultTimeoutMs: timeoutMs },
      );
    } catch (error) {
      socket.destroy();
      throw error;
    }
  };

  const target: ConformanceTarget = { name: o.name ?? `h3 via quic-go 127.0.0.1:${o.port}`, transport: 'h3', limits: o.limits, open, timeoutMs };
  if (o.expect) target.expect = o.expect;
  return {
    target,
    stop: async () => {
      await bridge.stop();
    },
  };
}
