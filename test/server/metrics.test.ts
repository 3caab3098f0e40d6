// Prometheus metrics of WebSocketServer (`metrics` option, `wss.metrics`):
// known traffic over each transport, then the exact numbers in a scrape.
import { once } from 'node:events';
import { Registry } from 'prom-client';
import t from 'tap';
import { HandshakeError, WebSocket, WebSocketServer } from '../../src/index.js';
import { openSilentPeer } from '../cli/silent-peer.js';
import { parseExposition, sampleValue, type Sample } from '../helpers/prometheus.js';
import { makeTls } from '../transports/http2/tls.js';

const { tls, ca } = makeTls();
const LABEL = { h1: 'http/1.1', h2: 'h2', h3: 'h3' } as const;

async function scrape(wss: WebSocketServer): Promise<Sample[]> {
  return parseExposition(await wss.metrics!.metrics());
}

/** Opens a client and resolves once it is open; rejects on a failed handshake. */
function open(url: string, transport: 'h1' | 'h2' | 'h3'): Promise<WebSocket> {
  const client = new WebSocket(url, { transport, ca });
  return new Promise((resolve, reject) => {
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

for (const transport of ['h1', 'h2', 'h3'] as const) {
  t.test(`${transport}: handshakes, messages, bytes, deflate and close codes are counted exactly`, async (t) => {
    const wss = new WebSocketServer({ noServer: true, path: '/ok', metrics: true, perMessageDeflate: true });
    const serverSessions: WebSocket[] = [];
    wss.on('connection', (ws) => {
      serverSessions.push(ws);
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    });
    const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: transport === 'h3' });
    t.teardown(() => wss.close());
    const label = { transport: LABEL[transport] };

    const refused = await open(`wss://localhost:${port}/nope`, transport).then(
      () => null,
      (error: unknown) => error,
    );
    t.ok(refused instanceof HandshakeError && refused.status === 404, 'the handshake to another path is refused with 404');

    const client = await open(`wss://localhost:${port}/ok`, transport);
    t.match(client.extensions, /^permessage-deflate/, 'permessage-deflate was negotiated');
    // 10 + 100 + 2,000 payload bytes; only the last reaches the 1,024-byte compression threshold.
    const messages: Array<string | Buffer> = ['x'.repeat(10), Buffer.alloc(100, 7), 'a'.repeat(2000)];
    const echoes: unknown[] = [];
    const allEchoed = new Promise<void>((resolve) =>
      client.on('message', (data) => {
        if (echoes.push(data) === messages.length) resolve();
      }),
    );
    for (const message of messages) client.send(message);
    await allEchoed;

    let samples = await scrape(wss);
    t.equal(sampleValue(samples, 'trident_sessions_open', label), 1, 'one open session');
    t.equal(sampleValue(samples, 'trident_messages_received_total', label), 3);
    t.equal(sampleValue(samples, 'trident_message_bytes_received_total', label), 2110);
    t.equal(sampleValue(samples, 'trident_messages_sent_total', label), 3);
    t.equal(sampleValue(samples, 'trident_message_bytes_sent_total', label), 2110);
    const deflate = (name: string, operation: string): number | undefined =>
      sampleValue(samples, `trident_deflate_${name}_bytes_total`, { ...label, operation });
    t.equal(deflate('input', 'compress'), 2000, 'the 2,000-byte echo went into the compressor');
    t.equal(deflate('output', 'decompress'), 2000, "the client's 2,000-byte message came out of the decompressor");
    // 2,000 repeated bytes deflate to a handful.
    for (const [name, operation] of [['output', 'compress'], ['input', 'decompress']] as const) {
      const bytes = deflate(name, operation)!;
      t.ok(bytes > 0 && bytes < 50, `${operation} ${name}: ${bytes} compressed bytes`);
    }
    for (const other of ['h1', 'h2', 'h3'] as const) {
      if (other === transport) continue;
      t.equal(sampleValue(samples, 'trident_messages_received_total', { transport: LABEL[other] }), 0, `nothing counted for ${other}`);
    }

    if (transport === 'h3') {
      t.ok(sampleValue(samples, 'trident_quic_connections')! >= 1, 'the QUIC connection is counted');
      const sent = sampleValue(samples, 'trident_quic_packets_sent_total')!;
      const received = sampleValue(samples, 'trident_quic_packets_received_total')!;
      t.ok(sent > 0 && received > 0, `QUIC packets sent ${sent}, received ${received}`);
      t.ok(sampleValue(samples, 'trident_quic_packets_lost_total')! <= sent, 'lost packets are at most those sent');
      const rtt = sampleValue(samples, 'trident_quic_rtt_seconds', { stat: 'mean' })!;
      t.ok(rtt > 0 && rtt < 1, `smoothed RTT on loopback ${rtt} s`);
      client.send('one more');
      await once(client, 'message');
      const after = await scrape(wss);
      t.ok(sampleValue(after, 'trident_quic_packets_received_total')! > received, 'received packets grow with traffic');
    }

    const serverClosed = once(serverSessions[0]!, 'close');
    client.close(4000, 'bye');
    await Promise.all([once(client, 'close'), serverClosed]);
    samples = await scrape(wss);
    t.equal(sampleValue(samples, 'trident_close_frames_received_total', { ...label, code: '4000' }), 1);
    t.equal(sampleValue(samples, 'trident_close_frames_sent_total', { ...label, code: '4000' }), 1, 'the close code is echoed');
    t.equal(sampleValue(samples, 'trident_sessions_open', label), 0);
    const accepted = transport === 'h1' ? '101' : '200';
    t.equal(sampleValue(samples, 'trident_handshakes_total', { ...label, status: accepted }), 1);
    t.equal(sampleValue(samples, 'trident_handshakes_total', { ...label, status: '404' }), 1);
  });
}

t.test('backpressure pauses: a write the transport refuses is counted once until its drain', async (t) => {
  const wss = new WebSocketServer({ noServer: true, metrics: true });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => wss.close());
  const connected = once(wss, 'connection');
  const client = await open(`ws://127.0.0.1:${port}/`, 'h1');
  t.teardown(() => client.terminate());
  client.pause();
  const [ws] = (await connected) as [WebSocket];
  // 1 MiB is far above the socket's 16 KiB high-water mark; the next sends wait in the session's queue.
  t.equal(ws.send(Buffer.alloc(1024 * 1024)), false, 'the first send already meets backpressure');
  t.equal(ws.send(Buffer.alloc(1024)), false);
  let samples = await scrape(wss);
  t.equal(sampleValue(samples, 'trident_backpressure_pauses_total', { transport: 'http/1.1' }), 1);
  client.resume();
  await once(ws, 'drain');
  samples = await scrape(wss);
  t.equal(sampleValue(samples, 'trident_message_bytes_sent_total', { transport: 'http/1.1' }), 1024 * 1024 + 1024);
});

t.test('heartbeat terminations: a peer that never answers is counted once', async (t) => {
  const wss = new WebSocketServer({ noServer: true, metrics: true, heartbeatInterval: 50 });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => wss.close());
  const connected = once(wss, 'connection');
  const peer = await openSilentPeer(port, '/');
  t.teardown(() => peer.socket.destroy());
  const [ws] = (await connected) as [WebSocket];
  const [code] = (await once(ws, 'close')) as [number];
  t.equal(code, 1006, 'terminated without a close handshake');
  const samples = await scrape(wss);
  t.equal(sampleValue(samples, 'trident_heartbeat_terminations_total', { transport: 'http/1.1' }), 1);
});

t.test('registers into a registry the application passes, with its prefix; off by default', async (t) => {
  const registry = new Registry();
  const wss = new WebSocketServer({ noServer: true, metrics: { registry, prefix: 'app_ws_' } });
  t.equal(wss.metrics, registry);
  const samples = parseExposition(await registry.metrics());
  t.equal(sampleValue(samples, 'app_ws_sessions_open', { transport: 'h2' }), 0);
  t.equal(sampleValue(samples, 'trident_sessions_open', { transport: 'h2' }), undefined);
  t.equal(new WebSocketServer({ noServer: true }).metrics, null);
});
