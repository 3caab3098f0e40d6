import { createRequire } from 'node:module';
import type { Counter, Gauge, Registry } from 'prom-client';
import type { TransportName } from '../session/byte-channel.js';
import { SessionCounters } from '../session/counters.js';
import type { WebSocket } from '../session/websocket.js';
import type { HandshakeMetrics } from '../handshake/accept.js';
import type { QuicServer, QuicTrafficStats } from '../quic/types.js';

/** `metrics` option of a WebSocketServer: register into this registry, with this name prefix. */
export interface MetricsOptions {
  /** Default: a new Registry, at `wss.metrics`. */
  registry?: Registry;
  /** Prefix of every metric name; default `trident_`. Two servers sharing a registry need different prefixes. */
  prefix?: string;
}

const TRANSPORTS: readonly TransportName[] = ['http/1.1', 'h2', 'h3'];

/**
 * prom-client, loaded on first use: it takes about as long to load as the
 * rest of the library, which a server without metrics should not pay. It is
 * a CommonJS package, so a synchronous require works from this ES module.
 */
let promClient: typeof import('prom-client') | null = null;
function loadPromClient(): typeof import('prom-client') {
  promClient ??= createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
  return promClient;
}

type Labels = Record<string, string | number>;
/** Reports the current values of one metric: `emit(labels, value)` per series. */
type Read = (emit: (labels: Labels, value: number) => void) => void;

/**
 * A WebSocketServer's Prometheus metrics (prom-client). Nothing here runs per
 * message: sessions bump plain numbers in one SessionCounters per transport,
 * handshakes bump a map entry, and every metric is computed from those (and
 * from the sessions and QUIC servers themselves) when the registry is scraped.
 */
export class ServerMetrics implements HandshakeMetrics {
  readonly registry: Registry;
  private readonly perTransport = new Map<TransportName, SessionCounters>(TRANSPORTS.map((name) => [name, new SessionCounters()]));
  /** `${transport} ${status}` → handshakes answered with that status. */
  private readonly handshakes = new Map<string, number>();
  private readonly quicServers: QuicServer[] = [];

  constructor(options: MetricsOptions, sessions: () => Iterable<WebSocket>) {
    const { Counter, Gauge, Registry } = loadPromClient();
    this.registry = options.registry ?? new Registry();
    const prefix = options.prefix ?? 'trident_';
    const registers = [this.registry];
    // Every metric is recomputed from the plain counters at scrape time (prom-client calls collect() first).
    const counter = (name: string, help: string, labelNames: string[], read: Read): void => {
      new Counter({ name: prefix + name, help, labelNames, registers, collect: recompute<Counter>(read, (c, labels, value) => c.inc(labels, value)) });
    };
    // `aggregator`: how `trident serve --workers` combines the workers' values (prom-client's AggregatorRegistry sums by default).
    const gauge = (name: string, help: string, labelNames: string[], read: Read, aggregator: 'sum' | 'average' = 'sum'): void => {
      new Gauge({ name: prefix + name, help, labelNames, registers, aggregator, collect: recompute<Gauge>(read, (g, labels, value) => g.set(labels, value)) });
    };
    const perTransport = (name: string, help: string, field: NumericField): void =>
      counter(name, help, ['transport'], (emit) => {
        for (const [transport, counters] of this.perTransport) emit({ transport }, counters[field]);
      });
    const closeCodes = (name: string, help: string, field: 'closeCodesSent' | 'closeCodesReceived'): void =>
      counter(name, help, ['transport', 'code'], (emit) => {
        for (const [transport, counters] of this.perTransport) {
          for (const [code, count] of counters[field]) emit({ transport, code }, count);
        }
      });
    const deflate = (name: string, help: string, compress: NumericField, decompress: NumericField): void =>
      counter(name, help, ['transport', 'operation'], (emit) => {
        for (const [transport, counters] of this.perTransport) {
          emit({ transport, operation: 'compress' }, counters[compress]);
          emit({ transport, operation: 'decompress' }, counters[decompress]);
        }
      });

    gauge('sessions_open', 'WebSocket sessions in the OPEN state', ['transport'], (emit) => {
      const open = new Map<TransportName, number>(TRANSPORTS.map((name) => [name, 0]));
      for (const ws of sessions()) {
        if (ws.readyState === ws.OPEN && ws.transport !== undefined) open.set(ws.transport, open.get(ws.transport)! + 1);
      }
      for (const [transport, count] of open) emit({ transport }, count);
    });
    counter('handshakes_total', 'WebSocket handshakes answered, by HTTP status (101 or 200 accepted)', ['transport', 'status'], (emit) => {
      for (const [key, count] of this.handshakes) {
        const [transport, status] = key.split(' ');
        emit({ transport: transport!, status: status! }, count);
      }
    });
    perTransport('messages_received_total', 'Messages received from peers', 'messagesReceived');
    perTransport('messages_sent_total', 'Messages sent to peers', 'messagesSent');
    perTransport('message_bytes_received_total', 'Payload bytes of received messages, after decompression', 'bytesReceived');
    perTransport('message_bytes_sent_total', 'Payload bytes of sent messages, before compression', 'bytesSent');
    closeCodes('close_frames_sent_total', 'Close frames sent, by status code (1005: none)', 'closeCodesSent');
    closeCodes('close_frames_received_total', 'Close frames received, by status code (1005: none)', 'closeCodesReceived');
    perTransport('backpressure_pauses_total', 'Times a transport refused more bytes until its drain (slow readers)', 'backpressurePauses');
    perTransport('heartbeat_terminations_total', 'Sessions ended because the peer was silent for a heartbeat interval', 'heartbeatTerminations');
    deflate('deflate_input_bytes_total', 'permessage-deflate bytes into the compressor (uncompressed) or decompressor (compressed)', 'compressInputBytes', 'decompressInputBytes');
    deflate('deflate_output_bytes_total', 'permessage-deflate bytes out of the compressor (compressed) or decompressor (uncompressed)', 'compressOutputBytes', 'decompressOutputBytes');

    gauge('quic_connections', 'QUIC connections not closed yet (handshakes included)', [], (emit) => emit({}, this.sumQuic((s) => s.connections)));
    counter('quic_packets_sent_total', 'QUIC packets sent', [], (emit) => emit({}, this.sumQuic((s) => s.packetsSent)));
    counter('quic_packets_received_total', 'QUIC packets received', [], (emit) => emit({}, this.sumQuic((s) => s.packetsReceived)));
    counter('quic_packets_lost_total', 'QUIC packets declared lost (RFC 9002)', [], (emit) => emit({}, this.sumQuic((s) => s.packetsLost)));
    gauge('quic_rtt_seconds', 'Smoothed RTT over live QUIC connections (RFC 9002 §5.3): min, mean, max', ['stat'], (emit) => {
      const rtts = this.quicServers.flatMap((server) => server.trafficStats().rttSeconds);
      if (rtts.length === 0) return;
      emit({ stat: 'min' }, Math.min(...rtts));
      emit({ stat: 'mean' }, rtts.reduce((sum, rtt) => sum + rtt, 0) / rtts.length);
      emit({ stat: 'max' }, Math.max(...rtts));
    }, 'average');
  }

  /** The counters sessions over `transport` bump. */
  countersFor(transport: TransportName): SessionCounters {
    return this.perTransport.get(transport)!;
  }

  /** A handshake was answered with `status` (101/200 accepted, else refused). */
  countHandshake(transport: TransportName, status: number): void {
    const key = `${transport} ${status}`;
    this.handshakes.set(key, (this.handshakes.get(key) ?? 0) + 1);
  }

  /** A QUIC listener whose traffic is reported (read on scrape; kept after it closes, for its totals). */
  addQuicServer(server: QuicServer): void {
    this.quicServers.push(server);
  }

  private sumQuic(pick: (stats: QuicTrafficStats) => number): number {
    let sum = 0;
    for (const server of this.quicServers) sum += pick(server.trafficStats());
    return sum;
  }
}

/** A collect() that clears the metric and sets each series `read` reports. */
function recompute<M extends Counter | Gauge>(read: Read, put: (metric: M, labels: Labels, value: number) => void): (this: M) => void {
  return function (this: M): void {
    this.reset();
    read((labels, value) => put(this, labels, value));
  };
}

type NumericField = { [K in keyof SessionCounters]: SessionCounters[K] extends number ? K : never }[keyof SessionCounters];
