// The server's admission pieces on their own: Retry tokens, the token buckets
// for stateless answers, source keys, and the handshake budget.
import { EventEmitter } from 'node:events';
import t from 'tap';
import { resolveAdmission } from '../../src/quic/config.js';
import { DeadlineQueue } from '../../src/quic/deadline-queue.js';
import { HandshakeBudget } from '../../src/quic/handshake-budget.js';
import { AnswerLimiter, sourceKey } from '../../src/quic/rate-limit.js';
import { RetryTokens } from '../../src/quic/tokens.js';

t.test('a Retry token is good for the connection ID of its Retry, the same address, and a few seconds', async (t) => {
  const tokens = new RetryTokens(10);
  const odcid = Buffer.from('0102030405060708', 'hex');
  const retryScid = Buffer.alloc(16, 0xaa);
  const now = 1_000_000;
  const token = tokens.mint(odcid, retryScid, '192.0.2.1', 4433, now);
  t.same(tokens.verify(token, retryScid, '192.0.2.1', 4433, now + 2000), odcid, 'valid: the original DCID');
  t.equal(tokens.verify(token, Buffer.alloc(16, 0xab), '192.0.2.1', 4433, now), null, 'another connection ID');
  t.equal(tokens.verify(token, retryScid, '192.0.2.2', 4433, now), null, 'another address');
  t.equal(tokens.verify(token, retryScid, '192.0.2.1', 4434, now), null, 'another port');
  t.equal(tokens.verify(token, retryScid, '192.0.2.1', 4433, now + 12_000), null, 'stale');
  const forged = Buffer.from(token);
  forged[forged.length - 1]! ^= 1;
  t.equal(tokens.verify(forged, retryScid, '192.0.2.1', 4433, now), null, 'a changed MAC');
  t.equal(new RetryTokens(10).verify(token, retryScid, '192.0.2.1', 4433, now), null, "another server's key");
});

t.test('source keys: IPv4 addresses, IPv6 /64 prefixes', async (t) => {
  t.equal(sourceKey('192.0.2.7'), '192.0.2.7');
  t.equal(sourceKey('::ffff:192.0.2.7'), '192.0.2.7', 'IPv4-mapped is the IPv4 address');
  t.equal(sourceKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  t.equal(sourceKey('2001:db8:1:2::99'), '2001:db8:1:2::/64', 'the same /64');
  t.equal(sourceKey('2001:DB8:0001:0002:0:0:0:1'), '2001:db8:1:2::/64', 'written differently, the same /64');
  t.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(sourceKey('::1'), '0:0:0:0::/64');
  t.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64', 'zone ids do not matter');
  t.not(sourceKey('2001:db8:1:3::1'), sourceKey('2001:db8:1:2::1'), 'another /64');
});

t.test('stateless answers: a bucket per source and one for all', async (t) => {
  const limiter = new AnswerLimiter(25, 10, 0);
  let a = 0;
  for (let i = 0; i < 100; i++) if (limiter.allow('192.0.2.1', 0)) a++;
  t.equal(a, 10, 'one source: its burst');
  let b = 0;
  for (let i = 0; i < 100; i++) if (limiter.allow('192.0.2.2', 0)) b++;
  t.equal(b, 10, 'another source has its own bucket');
  let c = 0;
  for (let i = 0; i < 100; i++) if (limiter.allow('192.0.2.3', 0)) c++;
  t.equal(c, 5, 'the global bucket (25) runs out');
  t.equal(limiter.allow('192.0.2.1', 100), true, 'tokens come back with time: 10/s per source, 25/s in all');
  t.equal(limiter.allow('192.0.2.1', 100), false, 'one per 100 ms');
});

t.test('admission options: defaults and validation', async (t) => {
  t.same(resolveAdmission({ cert: '', key: '' }), {
    maxConnections: 10_000,
    handshakes: { max: 1000, perSource: 100, timeout: 10_000 },
    retryRate: 1000,
    retryRatePerAddress: 100,
  });
  t.throws(() => resolveAdmission({ cert: '', key: '', maxHandshakes: 0 }), RangeError);
  t.throws(() => resolveAdmission({ cert: '', key: '', retryRatePerAddress: 0.5 }), RangeError);
  t.throws(() => resolveAdmission({ cert: '', key: '', handshakeTimeout: -1 }), RangeError);
});

t.test('the handshake budget counts per source and in all, and ends handshakes at their deadline', async (t) => {
  const expired = new EventEmitter();
  const budget = new HandshakeBudget<string>({ max: 3, perSource: 2, timeout: 50 }, (item) => expired.emit('item', item));
  // The budget's timer does not keep a process alive (a server's socket does).
  const alive = setInterval(() => {}, 1000);
  t.teardown(() => {
    budget.close();
    clearInterval(alive);
  });
  t.equal(budget.refusal('a'), null);
  budget.admit('a1', 'a');
  budget.admit('a2', 'a');
  t.equal(budget.refusal('a'), 'handshake limit for this address reached');
  t.equal(budget.refusal('b'), null);
  budget.admit('b1', 'b');
  t.equal(budget.refusal('c'), 'handshake limit reached');
  budget.release('a1');
  budget.release('a1'); // twice is harmless
  t.equal(budget.size, 2);
  t.equal(budget.refusal('a'), null, 'a released handshake frees its room');
  const order: string[] = [];
  await new Promise<void>((resolve) =>
    expired.on('item', (item: string) => {
      if (order.push(item) === 2) resolve();
    }),
  );
  t.same(order, ['a2', 'b1'], 'the oldest expires first; a released one never');
  t.equal(budget.size, 0, 'expired handshakes are released');
  t.equal(budget.refusal('a'), null);
});

t.test('a deadline queue with timeout 0 counts but never expires', async (t) => {
  const queue = new DeadlineQueue<number>(0, () => t.fail('expired'));
  queue.add(1);
  t.equal(queue.size, 1);
  t.equal(queue.delete(1), true);
  t.equal(queue.size, 0);
});
