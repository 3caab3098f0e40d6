/**
 * Autobahn's fuzzingserver protocol, so existing client drivers run unchanged:
 * every URL is a WebSocket.
 * - `/getCaseCount`: one text message with the number of cases, then close.
 * - `/getCaseInfo?case=N`: one text message `{"id": "1.1.1", "description": …}`, then close.
 * - `/runCase?case=N&agent=A`: case N (1-based) runs against the client.
 * - `/getCaseStatus?case=N&agent=A`: `{"behavior": "OK"}` of that case's last run.
 * - `/updateReports?agent=A`: writes the reports (all agents without `agent`), then close.
 * Served over HTTP/1.1 on the plain port, and over HTTP/1.1, HTTP/2 (RFC 8441)
 * and HTTP/3 (RFC 9220) on the TLS port.
 */
import { once as onceEvent } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConformanceReport, CaseResult } from '../report-types.js';
import { runCase } from './case-runner.js';
import { selectCases, type ServeCase } from './cases.js';
import type { ClientConnection, Negotiator } from './connection.js';
import { negotiateDeflate } from './deflate.js';
import { OP, FrameParser, closeBody, serverFrame } from './frames.js';
import { acceptHttp1 } from './http1.js';
import { acceptHttp2 } from './http2.js';
import { serveHttp3Connection } from './http3.js';
import { writeAgentReports } from './reports.js';

export interface FuzzingServerOptions {
  host?: string;
  /** Plain HTTP/1.1 port; null: none. */
  port?: number | null;
  /** TLS port (HTTP/1.1 and HTTP/2 over TCP, HTTP/3 over UDP); needs cert and key. */
  tlsPort?: number | null;
  cert?: Buffer;
  key?: Buffer;
  /** HTTP/3 on the TLS port's UDP twin; default true. */
  http3?: boolean;
  /** Autobahn case patterns ("1.*,9.1.1"); default: every case. */
  cases?: string;
  /** Where /updateReports writes; default ./reports/clients. */
  outdir?: string;
  version?: string;
  /** Caps every case's deadline (ms): tests of stalled clients; default: each case's own. */
  maxCaseTimeoutMs?: number;
  /** Called after every case run (the command prints a line per case, as wstest does). */
  onResult?: (agent: string, result: CaseResult) => void;
  /** Called with the JSON files of every /updateReports. */
  onReports?: (files: string[]) => void;
}

export interface FuzzingServer {
  readonly cases: readonly ServeCase[];
  /** Bound ports: plain, TLS (TCP) and HTTP/3 (UDP, the TLS port's number). */
  readonly ports: { plain?: number; tls?: number; h3?: number };
  /** The report of one agent, as /updateReports writes it. */
  report(agent: string): ConformanceReport;
  readonly agents: readonly string[];
  close(): Promise<void>;
}

/** How long a control connection (/getCaseCount, …) may take to complete its closing handshake. */
const CONTROL_CLOSE_MS = 2000;

/** RFC 6455 §4.2.2: a WebSocket endpoint answers a plain HTTP/1.1 request with 426. */
function answerPlainRequest(_request: http.IncomingMessage, response: http.ServerResponse): void {
  response.writeHead(426, { upgrade: 'websocket', 'sec-websocket-version': '13', 'content-type': 'text/plain' }).end('WebSocket fuzzing server: connect with a WebSocket client\n');
}

/** Sends one text message (or none) and a close 1000, answers the client's close, then ends. */
function answerAndClose(connection: ClientConnection, message: string | undefined): void {
  if (message !== undefined) connection.write(serverFrame({ opcode: OP.TEXT, payload: message }));
  connection.write(serverFrame({ opcode: OP.CLOSE, payload: closeBody(1000) }));
  const parser = new FrameParser(64 * 1024);
  const timer = setTimeout(() => connection.abort(), CONTROL_CLOSE_MS);
  connection.onData((chunk) => {
    try {
      // RFC 6455 §7.1.1: once the client's close arrived, the server ends the transport first.
      if (parser.push(chunk).some((frame) => frame.opcode === OP.CLOSE)) {
        clearTimeout(timer);
        connection.end();
      }
    } catch {
      connection.abort();
    }
  });
  connection.onEnd(() => {
    clearTimeout(timer);
    connection.end();
  });
}

export async function startFuzzingServer(options: FuzzingServerOptions): Promise<FuzzingServer> {
  const host = options.host ?? '127.0.0.1';
  const cases = selectCases(options.cases);
  if (cases.length === 0) throw new Error(`no case matches "${options.cases}"`);
  const outdir = options.outdir ?? 'reports/clients';
  const startedAt = new Date();
  /** agent → "id transport" → result: one row per case and transport. */
  const results = new Map<string, Map<string, CaseResult>>();
  const running = new Set<Promise<unknown>>();

  const report = (agent: string): ConformanceReport => {
    const rows = [...(results.get(agent)?.values() ?? [])];
    const order = new Map(cases.map((c, i) => [c.id, i]));
    rows.sort((a, b) => order.get(a.id)! - order.get(b.id)! || a.transport.localeCompare(b.transport));
    return {
      schema: 1,
      tool: { name: 'trident test', version: options.version ?? '0.0.0' },
      mode: 'client',
      subject: agent,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      results: rows,
    };
  };

  const caseAt = (query: URLSearchParams): ServeCase | undefined => {
    const index = Number(query.get('case'));
    return Number.isInteger(index) && index >= 1 && index <= cases.length ? cases[index - 1] : undefined;
  };

  /** Only a /runCase of categories 12 and 13 accepts permessage-deflate, with that case's choices. */
  const negotiate: Negotiator = (target, offer) => {
    let url: URL;
    try {
      url = new URL(target, 'http://fuzzing.invalid');
    } catch {
      return undefined;
    }
    const found = url.pathname === '/runCase' ? caseAt(url.searchParams) : undefined;
    return found?.deflate ? negotiateDeflate(offer, found.deflate.choices) : undefined;
  };

  const onWebSocket = (connection: ClientConnection): void => {
    // URL.parse is Node 22+; a request target that is no URL (absolute-form "http://[") just gets a close.
    let url: URL;
    try {
      url = new URL(connection.target, 'http://fuzzing.invalid');
    } catch {
      return answerAndClose(connection, undefined);
    }
    const agent = url.searchParams.get('agent') ?? 'unknown';
    switch (url.pathname) {
      case '/getCaseCount':
        return answerAndClose(connection, JSON.stringify(cases.length));
      case '/getCaseInfo': {
        const found = caseAt(url.searchParams);
        return answerAndClose(connection, found ? JSON.stringify({ id: found.id, description: found.description }) : undefined);
      }
      case '/getCaseStatus': {
        const found = caseAt(url.searchParams);
        const result = found ? [...(results.get(agent)?.values() ?? [])].find((r) => r.id === found.id && r.transport === connection.transport) : undefined;
        return answerAndClose(connection, JSON.stringify({ behavior: result?.verdict ?? 'UNIMPLEMENTED' }));
      }
      case '/updateReports': {
        const agents = url.searchParams.has('agent') ? [agent] : [...results.keys()];
        const writing = writeAgentReports(outdir, agents.map(report)).then(
          (files) => {
            options.onReports?.(files);
            answerAndClose(connection, undefined);
          },
          () => connection.abort(),
        );
        running.add(writing);
        void writing.finally(() => running.delete(writing));
        return;
      }
      case '/runCase': {
        const found = caseAt(url.searchParams);
        if (!found) return answerAndClose(connection, undefined);
        const run = runCase(found, connection, options.maxCaseTimeoutMs).then((result) => {
          if (!results.has(agent)) results.set(agent, new Map());
          results.get(agent)!.set(`${result.id} ${result.transport}`, result);
          options.onResult?.(agent, result);
        });
        running.add(run);
        void run.finally(() => running.delete(run));
        return;
      }
      default:
        return answerAndClose(connection, undefined);
    }
  };

  const closers: Array<() => Promise<void>> = [];
  const ports: { plain?: number; tls?: number; h3?: number } = {};
  try {
    if (options.port !== null && options.port !== undefined) {
      const server = http.createServer(answerPlainRequest);
      server.on('upgrade', (request, socket, head) => {
        const connection = acceptHttp1(request, socket, head, negotiate);
        if (connection) onWebSocket(connection);
      });
      closers.push(closer(server));
      server.listen(options.port, host);
      await onceEvent(server, 'listening');
      ports.plain = (server.address() as AddressInfo).port;
    }
    if (options.tlsPort !== null && options.tlsPort !== undefined) {
      if (!options.cert || !options.key) throw new Error('the TLS port needs a certificate and key');
      const server = http2.createSecureServer({ cert: options.cert, key: options.key, allowHTTP1: true, settings: { enableConnectProtocol: true } });
      server.on('stream', (stream, headers) => {
        const connection = acceptHttp2(stream, headers, negotiate);
        if (connection) onWebSocket(connection);
      });
      // HTTP/1.1 requests that are no upgrade need a 'request' listener; adding one
      // turns on Node's HTTP/2 compatibility layer for every stream too, which runs
      // after the 'stream' handler above (that answers first) and would refuse any
      // CONNECT with 405 unless a 'connect' listener exists: both ignore HTTP/2.
      server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
        if (request.httpVersionMajor === 1) answerPlainRequest(request, response);
      });
      server.on('connect', () => {});
      server.on('upgrade', (request: http.IncomingMessage, socket, head: Buffer) => {
        const connection = acceptHttp1(request, socket, head, negotiate);
        if (connection) onWebSocket(connection);
      });
      server.on('session', (session) => session.on('error', () => {}));
      closers.push(closer(server));
      server.listen(options.tlsPort, host);
      await onceEvent(server, 'listening');
      ports.tls = (server.address() as AddressInfo).port;
      if (options.http3 !== false) {
        const { createQuicServer, quicAvailable } = await import('../../quic/index.js');
        if (quicAvailable()) {
          const quic = createQuicServer({ cert: options.cert, key: options.key, alpn: ['h3'] });
          const sessions = new Set<{ close(): void }>();
          quic.on('connection', (connection) => {
            const session = serveHttp3Connection(connection, onWebSocket, negotiate);
            sessions.add(session);
            session.on('close', () => sessions.delete(session));
          });
          quic.on('error', () => {});
          ports.h3 = (await quic.listen(ports.tls, host)).port;
          closers.push(async () => {
            for (const session of sessions) session.close();
            await quic.close();
          });
        }
      }
    }
  } catch (error) {
    await Promise.all(closers.map((close) => close()));
    throw error;
  }

  return {
    cases,
    ports,
    report,
    get agents() {
      return [...results.keys()];
    },
    close: async () => {
      await Promise.allSettled([...running]);
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/** Closes a listener and every connection it still has (a stalled client cannot hold the shutdown). */
function closer(server: http.Server | http2.Http2SecureServer): () => Promise<void> {
  const sockets = new Set<Duplex>();
  server.on('connection', (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return async () => {
    const closed = onceEvent(server, 'close');
    server.close();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
}
