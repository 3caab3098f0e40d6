/**
 * `trident serve --metrics-port`: the binary's Prometheus endpoint, scraped
 * after a known mixed HTTP/1.1, HTTP/2 and HTTP/3 run. The last scrape is kept
 * in test-artifacts/metrics-scrape.txt.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { HandshakeError, WebSocket } from '../../src/index.js';
import { parseServeArgs } from '../../src/cli/config.js';
import { ROOT, startBinary } from '../helpers/binary.js';
import { parseExposition, sampleValue } from '../helpers/prometheus.js';

const TIMEOUT = 5000;
const LABEL = { h1: 'http/1.1', h2: 'h2', h3: 'h3' } as const;

function get(port: number, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: TIMEOUT }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${path}`)));
    req.on('error', reject);
  });
}

function open(url: string, transport: 'h1' | 'h2' | 'h3', ca: string): Promise<WebSocket> {
  const client = new WebSocket(url, { transport, ca, handshakeTimeout: TIMEOUT });
  return new Promise((resolve, reject) => {
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

t.test('--metrics-port is off by default and takes a port', async (t) => {
  const base = ['--port', 'off'];
  t.equal((parseServeArgs(base, {}) as { metricsPort: number | null }).metricsPort, null);
  t.equal((parseServeArgs([...base, '--metrics-port', '9464'], {}) as { metricsPort: number | null }).metricsPort, 9464);
  t.equal((parseServeArgs(base, { TRIDENT_METRICS_PORT: '9465' }) as { metricsPort: number | null }).metricsPort, 9465);
  t.throws(() => parseServeArgs([...base, '--metrics-port', 'x'], {}), /--metrics-port must be a non-negative integer/);
});

t.test('the binary serves /metrics with exact counts after a mixed h1/h2/h3 run', async (t) => {
  const bin = await startBinary(['--metrics-port', '0']);
  t.teardown(() => bin.kill());
  const { port } = (await bin.waitForLog((line) => line.msg === 'metrics listening', { what: 'metrics listening' })) as { port: number };
  const url = (path: string): string => `wss://localhost:${bin.tlsPort}${path}`;

  const refused = await open(url('/nope'), 'h1', bin.caPem).then(
    () => null,
    (error: unknown) => error,
  );
  t.ok(refused instanceof HandshakeError && refused.status === 404, 'a WebSocket to an unknown path is refused with 404');

  // Per transport: 5 text messages of 100 bytes and one of 3,000 (compressed
  // both ways: the binary and the client use permessage-deflate by default).
  const clients = await Promise.all((['h1', 'h2', 'h3'] as const).map((transport) => open(url('/echo'), transport, bin.caPem)));
  for (const client of clients) {
    t.match(client.extensions, /^permessage-deflate/);
    const echoed = new Promise<void>((resolve) => {
      let count = 0;
      client.on('message', () => ++count === 6 && resolve());
    });
    for (let i = 0; i < 5; i++) client.send('m'.repeat(100));
    client.send('z'.repeat(3000));
    await echoed;
  }
  const during = parseExposition((await get(port, '/metrics')).body);
  for (const transport of ['h1', 'h2', 'h3'] as const) {
    t.equal(sampleValue(during, 'trident_sessions_open', { transport: LABEL[transport] }), 1, `${transport}: one session open`);
  }
  t.ok(sampleValue(during, 'trident_quic_connections')! >= 1, 'the HTTP/3 session has a QUIC connection');

  await Promise.all(
    clients.map((client, i) => {
      const closed = once(client, 'close');
      client.close(4000 + i, 'done');
      return closed;
    }),
  );
  // The client's 'close' comes when the server ended the stream, after the server counted both close frames.
  const response = await get(port, '/metrics');
  t.equal(response.status, 200);
  t.match(response.type, /^text\/plain; version=0\.0\.4/, 'Prometheus text format');
  const samples = parseExposition(response.body);
  for (const [i, transport] of (['h1', 'h2', 'h3'] as const).entries()) {
    const label = { transport: LABEL[transport] };
    t.equal(sampleValue(samples, 'trident_messages_received_total', label), 6, `${transport}: messages in`);
    t.equal(sampleValue(samples, 'trident_messages_sent_total', label), 6, `${transport}: messages out`);
    t.equal(sampleValue(samples, 'trident_message_bytes_received_total', label), 3500, `${transport}: bytes in`);
    t.equal(sampleValue(samples, 'trident_message_bytes_sent_total', label), 3500, `${transport}: bytes out`);
    t.equal(sampleValue(samples, 'trident_deflate_input_bytes_total', { ...label, operation: 'compress' }), 3000);
    t.equal(sampleValue(samples, 'trident_deflate_output_bytes_total', { ...label, operation: 'decompress' }), 3000);
    t.equal(sampleValue(samples, 'trident_close_frames_received_total', { ...label, code: String(4000 + i) }), 1);
    t.equal(sampleValue(samples, 'trident_close_frames_sent_total', { ...label, code: String(4000 + i) }), 1);
    t.equal(sampleValue(samples, 'trident_sessions_open', label), 0);
    const accepted = transport === 'h1' ? '101' : '200';
    t.equal(sampleValue(samples, 'trident_handshakes_total', { ...label, status: accepted }), 1, `${transport}: one accepted handshake`);
  }
  t.equal(sampleValue(samples, 'trident_handshakes_total', { transport: 'http/1.1', status: '404' }), 1, 'the refusal, by status');
  t.ok(sampleValue(samples, 'trident_quic_packets_received_total')! > 0);
  t.ok(sampleValue(samples, 'trident_quic_packets_sent_total')! > 0);

  t.equal((await get(port, '/')).status, 404, 'the metrics listener serves /metrics only');
  const artifacts = join(ROOT, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, 'metrics-scrape.txt'), response.body);
  t.equal(await bin.stop(), 0, 'exits 0 on SIGTERM with the metrics listener open');
});

t.test('prom-client is loaded only by a server with metrics on (the built package)', async (t) => {
  const script = `
    const { WebSocketServer } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)});
    const { createRequire } = await import('node:module');
    const cache = createRequire(import.meta.url).cache;
    const loaded = () => Object.keys(cache).some((file) => file.includes('/node_modules/prom-client/'));
    new WebSocketServer({ noServer: true });
    const off = loaded();
    new WebSocketServer({ noServer: true, metrics: true });
    process.stdout.write(JSON.stringify({ off, on: loaded() }));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  t.same(JSON.parse(output), { off: false, on: true });
});
