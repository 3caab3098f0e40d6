/**
 * `trident serve --workers 2`: connections spread over both workers, chat
 * crosses workers (through the primary, no Redis) over h1, h2 and h3, a killed
 * worker is restarted, and SIGTERM closes every client with 1001.
 */
import t from 'tap';
import { quicAvailable } from '../../src/index.js';
import { joinChat, type ChatMember, type Transport } from '../helpers/chat-client.js';
import { makeCerts, startBinary, type RunningBinary } from '../helpers/binary.js';
import { startRedis, waitForSubscribers } from '../helpers/redis-server.js';
import { udpReusePortSupported } from '../../src/cli/workers.js';

const h3: Transport = quicAvailable() ? 'h3' : 'h2';
let certDir: string;
t.before(async () => {
  certDir = await makeCerts();
});

/** Joins and returns the member with the worker that logged its connection. */
async function joinOn(bin: RunningBinary, transport: Transport, ca = bin.caPem): Promise<{ member: ChatMember; worker: number }> {
  const from = bin.logs.length;
  const member = await joinChat(bin.tlsPort, 'room', transport, ca);
  const line = await bin.waitForLog((l) => l.msg === 'websocket connected', { from, what: '"websocket connected"' });
  return { member, worker: line.worker as number };
}

/**
 * HTTP/1.1 members joined one after the other until both workers hold one
 * (node:cluster hands connections out in turn, so two or three do it; at most
 * six, so a server that never spreads fails the caller's assertion).
 */
async function joinBothWorkers(bin: RunningBinary): Promise<Array<{ member: ChatMember; worker: number }>> {
  const joined: Array<{ member: ChatMember; worker: number }> = [];
  while (joined.length < 6 && new Set(joined.map((j) => j.worker)).size < 2) joined.push(await joinOn(bin, 'h1'));
  return joined;
}

/**
 * Resolves once the primary relays 'chat/room' to every worker in `workers`
 * (logged since index `from`): a worker subscribes when its first member
 * joins, over IPC, and a message published on another worker before the
 * primary read that is (rightly) not delivered to it.
 */
async function relayReady(bin: RunningBinary, from: number, workers: number[]): Promise<void> {
  for (const worker of workers) {
    await bin.waitForLog((l) => l.msg === 'relay: worker subscribed' && l.worker === worker && l.topic === 'chat/room', { from, what: `relay subscription of worker ${worker}` });
  }
}

async function startWorkers(extraArgs: string[] = []): Promise<RunningBinary> {
  const bin = await startBinary(['--workers', '2', '--log-level', 'debug', ...extraArgs], {}, { certDir, startTimeoutMs: 20_000 });
  await bin.waitForLog((l) => l.msg === 'all workers ready', { timeoutMs: 20_000, what: '"all workers ready"' });
  return bin;
}

t.test('--workers 2: connections spread, chat crosses workers over h1, h2 and h3 in order, SIGTERM closes all with 1001', async (t) => {
  const bin = await startWorkers();
  t.teardown(() => bin.kill());
  const from = bin.logs.length;
  // node:cluster hands TCP connections to the workers in turn.
  const h1s = await joinBothWorkers(bin);
  t.same(new Set(h1s.map((j) => j.worker)), new Set([1, 2]), 'HTTP/1.1 connections reached both workers');
  const viaH2 = await joinOn(bin, 'h2');
  const viaH3 = await joinOn(bin, h3);
  t.ok([1, 2].includes(viaH3.worker), `the ${h3} member is on worker ${viaH3.worker}`);
  const members = [...h1s, viaH2, viaH3];
  t.teardown(() => members.forEach((j) => j.member.ws.terminate()));
  await relayReady(bin, from, [1, 2]);

  let expected: string[] = [];
  for (const [index, { member }] of members.entries()) {
    const texts = Array.from({ length: 20 }, (_, i) => `m${index}-${i}`);
    texts.forEach((text) => member.ws.send(text));
    expected = [...expected, ...texts];
    await Promise.all(members.map((j) => j.member.until(expected.length)));
  }
  for (const [index, { member, worker }] of members.entries()) {
    t.same(member.received, expected, `member ${index} (${member.ws.transport}, worker ${worker}) got every message in order`);
  }

  const codes = members.map((j) => j.member.closed);
  t.equal(await bin.stop('SIGTERM', 20_000), 0, 'the primary exits 0 once the workers stopped');
  t.same(await Promise.all(codes), members.map(() => 1001), 'every client was closed with 1001 (Going Away)');
});

t.test('--workers 2: a killed worker is restarted and logged; the other one keeps serving', async (t) => {
  const bin = await startWorkers();
  t.teardown(() => bin.kill());
  const ready = bin.logs.filter((l) => l.msg === 'worker ready');
  const victim = ready.find((l) => l.worker === 2)!;
  t.type(victim.pid, 'number', 'the primary logged worker 2\'s pid');

  const from = bin.logs.length;
  process.kill(victim.pid as number, 'SIGKILL');
  const died = await bin.waitForLog((l) => l.msg === 'worker died: restarting it', { from, what: '"worker died"' });
  t.match(died, { worker: 2, signal: 'SIGKILL' }, 'the death is logged with the worker and the signal');
  const again = await bin.waitForLog((l) => l.msg === 'worker ready' && l.worker === 2, { from, timeoutMs: 20_000, what: 'worker 2 ready again' });
  t.not(again.pid, victim.pid, 'worker 2 runs in a new process');

  // Both workers serve again: connections reach each of them.
  const joinedFrom = bin.logs.length;
  const joined = await joinBothWorkers(bin);
  t.teardown(() => joined.forEach((j) => j.member.ws.terminate()));
  t.same(new Set(joined.map((j) => j.worker)), new Set([1, 2]), 'both workers accept connections after the restart');
  await relayReady(bin, joinedFrom, [1, 2]);
  joined[0]!.member.ws.send('after restart');
  await Promise.all(joined.map((j) => j.member.until(1)));
  t.same(joined.map((j) => j.member.received), joined.map(() => ['after restart']), 'chat crosses workers after the restart');
});

t.test('--workers 2 --metrics-port: one /metrics on the primary counts the sessions of both workers', async (t) => {
  const bin = await startWorkers(['--metrics-port', '0']);
  t.teardown(() => bin.kill());
  const listening = await bin.waitForLog((l) => l.msg === 'metrics listening', { what: '"metrics listening"' });
  t.equal(listening.role, 'primary', 'the primary serves /metrics; the workers do not listen on its port');
  const joined = await joinBothWorkers(bin);
  t.teardown(() => joined.forEach((j) => j.member.ws.terminate()));
  t.same(new Set(joined.map((j) => j.worker)), new Set([1, 2]), 'members on both workers');
  const text = await (await fetch(`http://127.0.0.1:${listening.port as number}/metrics`)).text();
  const value = (series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  t.equal(value('trident_handshakes_total{transport="http/1.1",status="101"}'), joined.length, 'accepted handshakes summed over the workers');
  t.equal(value('trident_sessions_open{transport="http/1.1"}'), joined.length, 'open sessions summed over the workers');
});

t.test('--workers 2 and HTTP/3: per-worker UDP sockets where Node has reusePort, worker 1 alone otherwise', { skip: !quicAvailable() && 'no QUIC module' }, async (t) => {
  const bin = await startWorkers();
  t.teardown(() => bin.kill());
  // The client pools QUIC connections by origin and TLS settings (the CA's
  // hash among them): a CA with i trailing newlines, the same certificate,
  // makes member i open its own connection. Each connection comes from a new UDP source port, which Linux hashes to
  // one of the reuseport sockets: 12 connections all on one worker of two
  // has probability 2^-11. Each member must still get the chat: a datagram
  // reaching the wrong worker would break its connection.
  const from = bin.logs.length;
  const joined: Array<{ member: ChatMember; worker: number }> = [];
  t.teardown(() => joined.forEach((j) => j.member.ws.terminate()));
  for (let i = 0; i < 12; i++) joined.push(await joinOn(bin, 'h3', bin.caPem + '\n'.repeat(i)));
  const workers = new Set(joined.map((j) => j.worker));
  if (udpReusePortSupported()) t.same(workers, new Set([1, 2]), `Node ${process.versions.node}: HTTP/3 connections reached both workers`);
  else t.same(workers, new Set([1]), `Node ${process.versions.node}: worker 1 alone serves HTTP/3`);
  await relayReady(bin, from, [...workers]);
  joined[0]!.member.ws.send('to all');
  await Promise.all(joined.map((j) => j.member.until(1)));
  t.same(joined.map((j) => j.member.received), joined.map(() => ['to all']), 'every HTTP/3 member got the message');
});

t.test('--workers 2 with --redis: each worker on Redis; chat crosses workers and reaches another server', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.kill());
  const bin = await startWorkers(['--redis', redis.url]);
  t.teardown(() => bin.kill());
  const other = await startBinary(['--redis', redis.url], {}, { certDir });
  t.teardown(() => other.kill());
  t.equal(bin.logs.filter((l) => l.msg === 'redis adapter connected').length, 2, 'both workers connected to Redis');
  const joined = await joinBothWorkers(bin);
  t.same(new Set(joined.map((j) => j.worker)), new Set([1, 2]), 'members on both workers');
  const remote = await joinChat(other.tlsPort, 'room', 'h2', other.caPem);
  const members = [...joined.map((j) => j.member), remote];
  t.teardown(() => members.forEach((m) => m.ws.terminate()));
  // Two workers and the other server subscribed on Redis.
  await waitForSubscribers(redis.url, 'trident:chat/room', 3);
  joined[0]!.member.ws.send('ping');
  await Promise.all(members.map((m) => m.until(1)));
  joined.at(-1)!.member.ws.send('from worker');
  remote.ws.send('from other server');
  await Promise.all(members.map((m) => m.until(3)));
  for (const member of members) {
    t.same(member.received.slice(1).sort(), ['from other server', 'from worker'], `${member.ws.transport} member got both`);
  }
});
