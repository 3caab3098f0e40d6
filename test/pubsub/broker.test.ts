/**
 * Rooms and encode-once broadcast (issue 13), the same tests over the memory
 * channel and real loopback HTTP/1.1, HTTP/2 and HTTP/3: join/publish/leave
 * and counts, cleanup on close with the adapter told, order of one
 * publisher's messages (interleaved with the member's own sends), members
 * with and without permessage-deflate, the shared-frame path (one framing,
 * one compression per compressor setting, the same Buffer written to every
 * member's channel) and the slow-member policy both ways.
 */
import t from 'tap';
import pino from 'pino';
import type { WebSocket } from '../../src/index.js';
import type { PubSubAdapter, PublishedMessage } from '../../src/pubsub/adapter.js';
import { Broker } from '../../src/pubsub/broker.js';
import type { SlowMemberOptions } from '../../src/pubsub/options.js';
import { captureLogger } from '../helpers/robustness.js';
import { channelOf, next, sessionKinds, type PairOptions, type SessionKind } from '../session/session-pairs.js';

const silent = pino({ level: 'silent' });

interface Member {
  server: WebSocket;
  client: WebSocket;
  received: Buffer[];
  /** Resolves once the client has received `count` messages in all. */
  receivedCount(count: number): Promise<void>;
  /** Buffers the server session handed to its channel, as handed. */
  written: Array<Buffer | Buffer[]>;
}

async function member(kind: SessionKind, options: PairOptions = {}): Promise<Member> {
  const pair = await kind.open(options);
  const received: Buffer[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  pair.client.on('message', (data: Buffer) => {
    received.push(Buffer.from(data));
    for (const waiter of waiters.filter((w) => received.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const written: Array<Buffer | Buffer[]> = [];
  const channel = channelOf(pair.server);
  const write = channel.write.bind(channel);
  channel.write = (data, callback) => {
    written.push(data);
    return write(data, callback);
  };
  return {
    server: pair.server,
    client: pair.client,
    received,
    written,
    receivedCount: (count) =>
      received.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

/** An adapter that records what the broker asks of it and lets the test deliver "remote" messages. */
function recordingAdapter(): PubSubAdapter & { calls: string[]; published: PublishedMessage[]; deliver: (m: PublishedMessage) => void } {
  const adapter = {
    calls: [] as string[],
    published: [] as PublishedMessage[],
    deliver: (_m: PublishedMessage): void => {
      throw new Error('not started');
    },
    async start(deliver: (m: PublishedMessage) => void) {
      adapter.deliver = deliver;
    },
    subscribe: (topic: string) => void adapter.calls.push(`subscribe ${topic}`),
    unsubscribe: (topic: string) => void adapter.calls.push(`unsubscribe ${topic}`),
    publish: (message: PublishedMessage) => void adapter.published.push(message),
    close: async () => void adapter.calls.push('close'),
  };
  return adapter;
}

const texts = (member: Member): string[] => member.received.map((b) => b.toString());

for (const { name, start } of sessionKinds) {
  t.test(name, async (t) => {
    const kind = await start();
    t.teardown(() => kind.close());

    t.test('join, publish, leave; counts', async (t) => {
      const broker = new Broker({ logger: silent });
      const [a, b, c] = await Promise.all([member(kind), member(kind), member(kind)]);
      t.ok(broker.join(a.server, 'room'), 'a joins');
      t.ok(broker.join(b.server, 'room'), 'b joins');
      t.notOk(broker.join(b.server, 'room'), 'joining twice is refused');
      t.ok(broker.join(c.server, 'other'), 'c joins another room');
      t.equal(broker.memberCount('room'), 2);
      t.equal(broker.roomCount, 2);
      t.equal(broker.publish('room', 'one'), 2, 'queued to the two members');
      t.equal(broker.publish('room', Buffer.from([1, 2, 3])), 2);
      t.equal(broker.publish('room', 'not to a', { except: a.server }), 1, 'everyone but the sender');
      t.ok(broker.leave(b.server, 'room'), 'b leaves');
      t.notOk(broker.leave(b.server, 'room'), 'leaving twice is refused');
      broker.publish('room', 'after b left');
      broker.publish('other', 'for c');
      await Promise.all([a.receivedCount(3), b.receivedCount(3), c.receivedCount(1)]);
      t.same(texts(a), ['one', '\x01\x02\x03', 'after b left']);
      t.same(texts(b), ['one', '\x01\x02\x03', 'not to a']);
      t.same(texts(c), ['for c']);
      t.same(broker.topicsOf(a.server), ['room']);
      t.same(broker.topicsOf(b.server), []);
      t.equal(broker.publish('nobody', 'x'), 0, 'a room without members');
    });

    t.test('membership is cleaned up on close and the adapter is told about first join and last leave', async (t) => {
      const adapter = recordingAdapter();
      const broker = new Broker({ logger: silent, adapter });
      const [a, b] = await Promise.all([member(kind), member(kind)]);
      broker.join(a.server, 'x');
      await broker.start();
      t.same(adapter.calls, ['subscribe x'], 'rooms that exist at start are subscribed');
      broker.join(b.server, 'x');
      broker.join(b.server, 'y');
      t.same(adapter.calls, ['subscribe x', 'subscribe y'], 'once per topic');
      broker.publish('y', 'to y');
      t.same(
        adapter.published.map((m) => [m.topic, m.data.toString(), m.isBinary, m.origin]),
        [['y', 'to y', false, broker.origin]],
        'published messages go to the adapter',
      );
      adapter.deliver({ topic: 'x', data: Buffer.from('from elsewhere'), isBinary: false, origin: 'another process' });
      adapter.deliver({ topic: 'x', data: Buffer.from('own echo'), isBinary: false, origin: broker.origin });
      await Promise.all([a.receivedCount(1), b.receivedCount(2)]);
      t.same(texts(a), ['from elsewhere'], 'remote messages reach local members; own echoes are dropped');
      t.equal(broker.stats.remoteDelivered, 1);

      const closed = next(b.server, 'close');
      b.client.close(1000);
      await closed;
      t.equal(broker.memberCount('x'), 1, 'b left x on close');
      t.equal(broker.memberCount('y'), 0, 'and y');
      t.same(adapter.calls.slice(2), ['unsubscribe y'], 'the last member of y left');
      const closedA = next(a.server, 'close');
      a.client.close(1000);
      await closedA;
      t.equal(broker.roomCount, 0, 'no room left');
      t.same(adapter.calls.slice(3), ['unsubscribe x']);
      await broker.close();
      t.same(adapter.calls.slice(4), ['close']);
    });

    t.test('deflate and plain members: one framing per setting, the same Buffer to every channel', async (t) => {
      const broker = new Broker({ logger: silent });
      const plain = await Promise.all([member(kind), member(kind), member(kind)]);
      const shared = await Promise.all([
        member(kind, { deflate: true, serverNoContextTakeover: true }),
        member(kind, { deflate: true, serverNoContextTakeover: true }),
      ]);
      const own = await member(kind, { deflate: true });
      const all = [...plain, ...shared, own];
      for (const m of all) broker.join(m.server, 'mixed');
      for (const m of all) m.written.length = 0;
      const text = 'compressible '.repeat(150);
      t.equal(broker.publish('mixed', text), 6);
      await Promise.all(all.map((m) => m.receivedCount(1)));
      t.equal(broker.stats.framings, 2, 'framed twice: once plain, once compressed');
      t.equal(broker.stats.sharedCompressions, 1, 'compressed once for both no-context-takeover members');
      for (const m of all) t.equal(m.received[0]!.toString(), text, 'every member got the message intact');
      const first = (m: Member): Buffer | Buffer[] => m.written[0]!;
      t.ok(plain.every((m) => first(m) === first(plain[0]!)), 'plain members were handed the same Buffer');
      t.ok(shared.every((m) => first(m) === first(shared[0]!)), 'members sharing a compressor setting were handed the same Buffer');
      t.not(first(shared[0]!), first(plain[0]!));
      const compressedFrame = first(shared[0]!) as Buffer;
      t.equal(compressedFrame[0]! & 0x40, 0x40, 'RSV1: the shared frame is compressed (RFC 7692 §6)');
      t.ok(compressedFrame.length < text.length / 4, 'and smaller');
      t.not(first(own), first(shared[0]!), 'a member with context takeover compressed for itself');
    });

    t.test("one publisher's messages arrive in order, with the member's own sends where they were made", async (t) => {
      // Everything is published in one turn, before any member reads: a limit above the ~16 MiB queued.
      const broker = new Broker({ logger: silent, slowMember: { limit: 64 * 1024 * 1024 } });
      const members = await Promise.all([
        member(kind),
        member(kind, { deflate: true, serverNoContextTakeover: true }),
        member(kind, { deflate: true }),
      ]);
      for (const m of members) broker.join(m.server, 'ordered');
      // Small, compressible, and larger than one 64 KiB slice (multi-part frames).
      const sizes = [10, 3000, 70_000, 200_000];
      const expected: string[] = [];
      for (let i = 0; i < 40; i++) {
        const body = `${i}:`.padEnd(sizes[i % sizes.length]!, String.fromCharCode(97 + (i % 26)));
        broker.publish('ordered', body);
        expected.push(body);
        if (i % 5 === 0) {
          for (const m of members) m.server.send(`direct ${i}`);
          expected.push(`direct ${i}`);
        }
      }
      await Promise.all(members.map((m) => m.receivedCount(expected.length)));
      for (const m of members) {
        const got = texts(m);
        const firstWrong = got.findIndex((text, i) => text !== expected[i]);
        t.equal(firstWrong, -1, `in order and intact (first difference at ${firstWrong}: ${got[firstWrong]?.slice(0, 20)})`);
      }
      t.equal(broker.stats.framings, 80, 'each message framed twice: plain, and compressed once for the no-context-takeover member');
      t.equal(broker.stats.sharedCompressions, 40);
    });

    for (const policy of ['close', 'drop'] as const) {
      t.test(`a slow member (policy '${policy}') is handled and slows nobody`, async (t) => {
        const slowMember: SlowMemberOptions = { limit: 256 * 1024, policy };
        const { logger, lines } = captureLogger('info');
        const broker = new Broker({ logger, slowMember });
        const fast = await member(kind);
        const slow = await member(kind);
        broker.join(fast.server, 'busy');
        broker.join(slow.server, 'busy');
        slow.client.pause();
        const size = 128 * 1024;
        const queuedToSlow: number[] = [];
        let sent = 0;
        // Bounded: loopback kernel buffers hold a few MiB before the server's buffer grows.
        while (sent < 400 && broker.stats.slowClosed === 0 && broker.stats.dropped === 0) {
          // A new Buffer each time: a published Buffer is sent as it is, never copied.
          const payload = Buffer.alloc(size, 7);
          payload.writeUInt32BE(sent, 0);
          const queued = broker.publish('busy', payload);
          if (queued === 2) queuedToSlow.push(sent);
          sent++;
          // The publisher goes on as soon as the fast member kept up: the slow one holds nobody back.
          await fast.receivedCount(sent);
        }
        t.ok(sent < 400, `the policy applied after ${sent} messages`);
        t.ok(slow.server.bufferedAmount <= slowMember.limit! + 2 * size, 'the slow member holds at most limit + one message');
        t.equal(fast.received.length, sent, 'the fast member got every message');
        t.equal(fast.server.readyState, 1, 'and is open');
        if (policy === 'close') {
          t.equal(broker.stats.slowClosed, 1);
          t.equal(broker.publish('busy', Buffer.alloc(size)), 1, 'nothing more is queued to the closing member');
          const closed = next<[number, string]>(slow.client, 'close');
          slow.client.resume();
          const [code] = await closed;
          t.equal(code, 1013, 'the slow member was closed with 1013 (Try Again Later)');
          t.equal(lines.filter((line) => line.msg === 'slow room member: closing with 1013').length, 1, 'logged once');
        } else {
          t.equal(broker.stats.slowClosed, 0);
          // Three more while it is still past the limit: dropped and counted, logged once in all.
          for (let i = 0; i < 3; i++) t.equal(broker.publish('busy', Buffer.alloc(8, 0xff)), 1);
          await fast.receivedCount(sent + 3);
          t.equal(broker.stats.dropped, 4, 'every skipped message is counted');
          t.equal(lines.filter((line) => line.msg === 'slow room member: dropping messages for it').length, 1, 'logged once');
          slow.client.resume();
          await slow.receivedCount(queuedToSlow.length);
          broker.publish('busy', 'after');
          await slow.receivedCount(queuedToSlow.length + 1);
          t.same(
            slow.received.slice(0, -1).map((b) => b.readUInt32BE(0)),
            queuedToSlow,
            'the slow member got exactly the messages queued to it, in order',
          );
          t.equal(texts(slow).at(-1), 'after', 'and messages again once it caught up');
          t.equal(slow.server.readyState, 1, 'still open');
        }
      });
    }
  });
}
