/**
 * `trident serve --redis` with a real redis-server: two server processes,
 * chat members on each over HTTP/1.1, HTTP/2 and HTTP/3, messages crossing
 * both ways in order; Redis killed and restarted mid-test; Redis down at start.
 */
import t from 'tap';
import { quicAvailable } from '../../src/index.js';
import { joinChat, type ChatMember } from '../helpers/chat-client.js';
import { makeCerts, runBinary, startBinary, type RunningBinary } from '../helpers/binary.js';
import { freePort, startRedis, waitForSubscribers } from '../helpers/redis-server.js';

const h3 = quicAvailable() ? 'h3' : 'h2';
let certDir: string;
t.before(async () => {
  certDir = await makeCerts();
});

const send = (member: ChatMember, texts: string[]): void => texts.forEach((text) => member.ws.send(text));
const series = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const waitLog = (bin: RunningBinary, msg: string, from = 0) => bin.waitForLog((l) => l.msg === msg, { from, timeoutMs: 10_000, what: `"${msg}"` });

t.test('two processes on one Redis: chat crosses both ways in order over h1, h2 and h3; survives a Redis restart', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.kill());
  // One process gets the URL by flag, the other by environment variable.
  const one = await startBinary(['--redis', redis.url], {}, { certDir });
  t.teardown(() => one.kill());
  const two = await startBinary([], { TRIDENT_REDIS_URL: redis.url }, { certDir });
  t.teardown(() => two.kill());
  await Promise.all([waitLog(one, 'redis adapter connected'), waitLog(two, 'redis adapter connected')]);

  const ca = one.caPem;
  const a1 = await joinChat(one.tlsPort, 'lobby', 'h1', ca);
  const a3 = await joinChat(one.tlsPort, 'lobby', h3, ca);
  const b2 = await joinChat(two.tlsPort, 'lobby', 'h2', ca);
  const b1 = await joinChat(two.tlsPort, 'lobby', 'h1', ca);
  const members = [a1, a3, b2, b1];
  t.teardown(() => members.forEach((m) => m.ws.terminate()));
  await waitForSubscribers(redis.url, 'trident:chat/lobby', 2);
  a1.ws.send('hello');
  await Promise.all(members.map((m) => m.until(1)));

  send(a3, series('from-one-', 50));
  await Promise.all(members.map((m) => m.until(51)));
  send(b2, series('from-two-', 50));
  await Promise.all(members.map((m) => m.until(101)));
  const expected = ['hello', ...series('from-one-', 50), ...series('from-two-', 50)];
  for (const [name, member] of Object.entries({ a1, a3, b2, b1 })) t.same(member.received, expected, `${name} got every message in order`);

  // Redis gone: each process still delivers to its own members.
  const fromOne = one.logs.length;
  const fromTwo = two.logs.length;
  await redis.kill();
  await Promise.all([waitLog(one, 'redis unreachable: delivering locally only, reconnecting with backoff', fromOne), waitLog(two, 'redis unreachable: delivering locally only, reconnecting with backoff', fromTwo)]);
  a1.ws.send('while-down');
  await Promise.all([a1.until(102), a3.until(102)]);
  t.equal(a1.received.at(-1), 'while-down', 'local delivery continues on process one');
  t.equal(a3.received.at(-1), 'while-down');

  await redis.restart();
  await Promise.all([waitLog(one, 'redis reachable again: cross-process fan-out resumed', fromOne), waitLog(two, 'redis reachable again: cross-process fan-out resumed', fromTwo)]);
  b1.ws.send('after');
  await Promise.all([a1.until(103), a3.until(103), b1.until(102), b2.until(102)]);
  t.same(a1.received.slice(-2), ['while-down', 'after'], 'fan-out resumed to process one');
  t.same(b2.received.slice(-2), ['from-two-49', 'after'], 'process two never got the message sent while Redis was down (at most once)');
  const dropped = one.logs.find((l) => l.msg === 'redis reachable again: cross-process fan-out resumed' && typeof l.dropped === 'number');
  t.equal(dropped?.dropped, 1, 'process one logged one dropped remote fan-out');
});

t.test('Redis down at start: exit 1 with a clear message; --redis-optional serves and connects later', async (t) => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const result = await runBinary(['serve', '--host', '127.0.0.1', '--http-port', '0', '--port', 'off', '--redis', url]);
  t.equal(result.code, 1, 'exit code 1');
  t.match(result.stderr, `Redis at ${url} is unreachable`, 'stderr names the Redis URL');
  t.match(result.stderr, '--redis-optional', 'and the way to serve without it');

  const redis = await startRedis();
  t.teardown(() => redis.kill());
  await redis.kill();
  const bin = await startBinary(['--redis', redis.url, '--redis-optional'], {}, { certDir });
  t.teardown(() => bin.kill());
  const a = await joinChat(bin.tlsPort, 'room', 'h1', bin.caPem);
  const b = await joinChat(bin.tlsPort, 'room', 'h2', bin.caPem);
  t.teardown(() => [a, b].forEach((m) => m.ws.terminate()));
  a.ws.send('local');
  await b.until(1);
  t.same(b.received, ['local'], 'chat works locally without Redis');
  await redis.restart();
  await waitLog(bin, 'redis adapter connected');
  const other = await startBinary(['--redis', redis.url], {}, { certDir });
  t.teardown(() => other.kill());
  const c = await joinChat(other.tlsPort, 'room', 'h1', bin.caPem);
  t.teardown(() => c.ws.terminate());
  c.ws.send('remote');
  await b.until(2);
  t.same(b.received, ['local', 'remote'], 'once Redis is up, messages from another process arrive');
});
