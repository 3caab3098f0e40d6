/**
 * The Redis adapter against a real redis-server: one publisher's order, echo
 * drop, no queue while Redis is down, resubscribe after a restart, a required
 * Redis down at start, and sharded pub/sub on a (one-node) Redis Cluster.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createClient } from '@redis/client';
import type { PublishedMessage } from '../../src/pubsub/adapter.js';
import { RedisAdapter, RedisUnavailableError, type RedisAdapterOptions } from '../../src/pubsub/redis-adapter.js';
import { makeTempDir } from '../helpers/binary.js';
import { freePort, startRedis } from '../helpers/redis-server.js';

/** Collects delivered messages and resolves when `count` arrived. */
function collector() {
  const received: PublishedMessage[] = [];
  let waiter: { count: number; resolve: () => void } | null = null;
  return {
    received,
    deliver: (message: PublishedMessage): void => {
      received.push(message);
      if (waiter && received.length >= waiter.count) waiter.resolve();
    },
    until: (count: number): Promise<void> =>
      received.length >= count ? Promise.resolve() : new Promise((resolve) => (waiter = { count, resolve })),
  };
}

const message = (i: number, origin: string, topic = 'room'): PublishedMessage => ({
  topic,
  data: Buffer.from(`m${i}`),
  isBinary: i % 2 === 1,
  origin,
});

/** A fast backoff, so a restarted Redis is found again quickly. */
const backoff = { initialMs: 20, maxMs: 200 };

/** Two adapters (two "processes") on one Redis, both closed at the end of the test. */
function pair(t: Test, url: string, options: Partial<RedisAdapterOptions> = {}) {
  const a = new RedisAdapter({ url, backoff, ...options});
  const b = new RedisAdapter({ url, backoff, ...options });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  return { a, b, atA: collector(), atB: collector() };
}

t.test('one publisher: every message crosses in order with its type; own echoes are dropped', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.kill());
  const { a, b, atA, atB } = pair(t, redis.url);
  await a.start(atA.deliver);
  await b.start(atB.deliver);
  a.subscribe('room');
  b.subscribe('room');
  await Promise.all([a.settled(), b.settled()]);

  const count = 500;
  for (let i = 0; i < count; i++) a.publish(message(i, 'origin-a'));
  await atB.until(count);
  t.same(
    atB.received.map((m) => [m.topic, m.data.toString(), m.isBinary, m.origin]),
    Array.from({ length: count }, (_, i) => ['room', `m${i}`, i % 2 === 1, 'origin-a']),
    'B got all of A\'s messages, in order, with type and origin',
  );
  // Redis handled all of A's publishes before B's marker, and forwards to A's
  // connection in that order: once the marker is at A, every echo is too.
  b.publish(message(0, 'marker-b'));
  await atA.until(1);
  t.same(atA.received.map((m) => m.origin), ['marker-b'], 'A delivered only the other process\'s message');
  t.equal(a.stats.echoes, count, 'A saw each of its own messages come back once and dropped it');
  t.equal(a.stats.published, count);
  t.equal(a.stats.dropped, 0);
});

t.test('unsubscribe: messages for a topic stop', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.kill());
  const { a, b, atB } = pair(t, redis.url);
  await a.start(() => undefined);
  await b.start(atB.deliver);
  b.subscribe('room');
  b.subscribe('last');
  await b.settled();
  a.publish(message(1, 'a'));
  await atB.until(1);
  b.unsubscribe('room');
  await b.settled();
  a.publish(message(2, 'a'));
  a.publish(message(3, 'a', 'last'));
  await atB.until(2);
  t.same(atB.received.map((m) => `${m.topic}:${m.data}`), ['room:m1', 'last:m3'], 'nothing on "room" after unsubscribe');
});

t.test('Redis lost: publishes are dropped at once (no queue); after the restart fan-out resumes without them', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.kill());
  const { a, b, atB } = pair(t, redis.url);
  await a.start(() => undefined);
  await b.start(atB.deliver);
  b.subscribe('room');
  await b.settled();
  a.publish(message(0, 'a'));
  await atB.until(1);

  const down = Promise.all([once(a, 'disconnected'), once(b, 'disconnected')]);
  await redis.kill();
  await down;
  t.equal(a.connected, false, 'A knows Redis is gone');
  for (let i = 1; i <= 1000; i++) a.publish(message(i, 'a'));
  t.equal(a.stats.dropped, 1000, 'all 1000 publishes while down were dropped and counted');
  t.equal(a.stats.published, 1, 'none of them was handed to the client (no offline queue)');

  const up = Promise.all([once(a, 'connected'), once(b, 'connected')]);
  await redis.restart();
  await up;
  a.publish(message(1001, 'a'));
  await atB.until(2);
  t.same(atB.received.map((m) => m.data.toString()), ['m0', 'm1001'], 'B resubscribed; got the new message and none of the dropped ones');
});

t.test('a required Redis down at start: start() rejects with RedisUnavailableError', async (t) => {
  const port = await freePort();
  const adapter = new RedisAdapter({ url: `redis://127.0.0.1:${port}` });
  t.teardown(() => adapter.close());
  const error = await adapter.start(() => undefined).then(() => null, (e: unknown) => e);
  t.ok(error instanceof RedisUnavailableError, 'a RedisUnavailableError');
  t.match((error as Error).message, `Redis at redis://127.0.0.1:${port} is unreachable: connect ECONNREFUSED`, 'the message names the URL and the cause');
});

t.test('an optional Redis down at start: start() resolves, publishes drop, and it connects once Redis is up', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.kill());
  await redis.kill();
  const { a, b, atB } = pair(t, redis.url, { required: false });
  await a.start(() => undefined);
  await b.start(atB.deliver);
  b.subscribe('room');
  a.publish(message(0, 'a'));
  t.equal(a.stats.dropped, 1, 'dropped while Redis is down');
  const up = Promise.all([once(a, 'connected'), once(b, 'connected')]);
  await redis.restart();
  await up;
  await b.settled();
  a.publish(message(1, 'a'));
  await atB.until(1);
  t.same(atB.received.map((m) => m.data.toString()), ['m1'], 'the subscription made while down took effect');
});

t.test('Redis Cluster: detected, sharded pub/sub carries messages in order', async (t) => {
  const dir = makeTempDir('trident-redis-cluster-');
  const redis = await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--dir', dir]);
  t.teardown(() => redis.kill());
  // A one-node cluster: this node owns every slot.
  const admin = createClient({ url: redis.url });
  await admin.connect();
  await admin.sendCommand(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
  // The node reports ok a moment after owning the slots; no event tells, so ask (bounded).
  for (let i = 0; !/cluster_state:ok/.test(await admin.sendCommand<string>(['CLUSTER', 'INFO'])); i++) {
    if (i === 100) throw new Error('cluster_state never became ok');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await admin.close();

  const { a, b, atB } = pair(t, redis.url);
  await a.start(() => undefined);
  await b.start(atB.deliver);
  t.equal(a.mode, 'cluster', 'cluster mode detected');
  b.subscribe('room');
  await b.settled();
  for (let i = 0; i < 100; i++) a.publish(message(i, 'a'));
  await atB.until(100);
  t.same(atB.received.map((m) => m.data.toString()), Array.from({ length: 100 }, (_, i) => `m${i}`), 'in order over SSUBSCRIBE');
});
