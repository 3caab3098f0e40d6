/**
 * Where the session meets its channels: sequences that ordinary applications
 * run, each run unchanged over the memory channel and over real loopback
 * HTTP/1.1, HTTP/2 and HTTP/3 (issue 9's defects; each case failed on at
 * least one transport before the session's send side became the Outbox).
 */
import t, { type Test } from 'tap';
import type { WebSocket } from '../../src/index.js';
import { channelOf, next, sessionKinds, type SessionKind } from './session-pairs.js';

/** Resolves when `condition` holds, checking once per event-loop turn (bounded). */
async function until(condition: () => boolean, what: string, turns = 20_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`gave up waiting: ${what}`);
}

/** Rejects if `promise` takes longer than `ms`: "promptly", without relying on a timeout in the code under test. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The binary's /echo: pause while a reply waits, resume on 'drain'. */
function echoWithBackpressure(ws: WebSocket): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!ws.send(data, { binary: isBinary })) {
      ws.pause();
      ws.once('drain', () => ws.resume());
    }
  });
}

type Case = (t: Test, kind: SessionKind) => Promise<void>;

const cases: Array<[string, Case]> = [
  [
    'a compressed message sent just before close() arrives before the close frame (client → server → echo)',
    async (t, kind) => {
      const { server, client } = await kind.open({ deflate: true });
      server.on('message', (data: Buffer) => server.send(data));
      const echoed = next<[Buffer]>(client, 'message');
      const clientClosed = next<[number, string]>(client, 'close');
      const serverClosed = next<[number, string]>(server, 'close');
      client.send('x'.repeat(2000));
      client.close(1000, 'bye');
      t.equal((await echoed)[0].toString(), 'x'.repeat(2000), 'the echo queued behind compression still arrived');
      t.same(await serverClosed, [1000, 'bye']);
      t.same((await clientClosed)[0], 1000, 'a clean close, not 1006');
      t.ok(client.wasClean && server.wasClean);
    },
  ],
  [
    'the server sends a compressed message and closes at once: the message comes first',
    async (t, kind) => {
      const { server, client } = await kind.open({ deflate: true });
      const got = next<[Buffer]>(client, 'message');
      const closed = next<[number, string]>(client, 'close');
      const sent = new Promise<Error | null | undefined>((resolve) => server.send('y'.repeat(5000), resolve));
      server.close(1001, 'going away');
      t.equal((await got)[0].length, 5000);
      t.same(await closed, [1001, 'going away']);
      t.equal(await sent, null, 'its callback reports success');
    },
  ],
  [
    "send() after the peer's end of stream does not throw; its callback fails",
    async (t, kind) => {
      const { server, client } = await kind.open();
      const closed = next<[number]>(server, 'close');
      channelOf(client).end(); // the peer ends its direction without a close frame
      await until(() => server.readyState !== server.OPEN, 'the server to see the end');
      let result: boolean | undefined;
      const error = await new Promise<Error | null | undefined>((resolve) => {
        result = server.send('too late', resolve);
      });
      t.equal(result, false);
      t.match(error?.message, /not open/);
      t.equal((await closed)[0], 1006, 'no close frame: abnormal closure');
    },
  ],
  [
    "pause() in 'connection' holds the peer's data at the peer (flow control), until resume()",
    async (t, kind) => {
      const size = 16 * 1024 * 1024;
      const { server, client } = await kind.open({ limits: { maxMessageSize: 32 * 1024 * 1024 }, onConnection: (ws) => ws.pause() });
      let messages = 0;
      server.on('message', () => messages++);
      client.send(Buffer.alloc(size));
      // An absence can only be watched for a while: give the transport time to deliver what it must not.
      await new Promise((resolve) => setTimeout(resolve, 300));
      t.equal(messages, 0, 'nothing delivered while paused');
      t.ok(client.bufferedAmount > size / 2, `most of the message still waits at the sender (${client.bufferedAmount} bytes)`);
      const got = next<[Buffer]>(server, 'message');
      server.resume();
      t.equal((await got)[0].length, size, 'all of it arrives after resume()');
    },
  ],
  [
    'a message of exactly maxMessageSize echoes when maxBufferedAmount is the same size; a reader keeping up is never cut off',
    async (t, kind) => {
      const limit = 1024 * 1024;
      const { server, client } = await kind.open({ limits: { maxMessageSize: limit, maxBufferedAmount: limit } });
      server.on('message', (data: Buffer) => server.send(data));
      const echoed = next<[Buffer]>(client, 'message');
      client.send(Buffer.alloc(limit, 7));
      t.equal((await echoed)[0].length, limit, 'echoed whole');
      const both = new Promise<number[]>((resolve) => {
        const sizes: number[] = [];
        client.on('message', (data: Buffer) => {
          sizes.push(data.length);
          if (sizes.length === 2) resolve(sizes);
        });
      });
      server.send(Buffer.alloc(0.75 * limit));
      server.send(Buffer.alloc(0.75 * limit));
      t.same(await both, [0.75 * limit, 0.75 * limit], 'two large messages back to back reach a reading peer');
      t.equal(server.readyState, server.OPEN);
    },
  ],
  [
    'send() of a compressed message returns true far below the high-water mark',
    async (t, kind) => {
      const { server, client } = await kind.open({ deflate: true });
      const got = next<[Buffer]>(client, 'message');
      t.equal(server.send('z'.repeat(2000)), true);
      t.equal((await got)[0].length, 2000);
    },
  ],
  [
    'every send callback is called exactly once; after terminate() the unsent ones fail',
    async (t, kind) => {
      for (const deflate of [false, true]) {
        const { server } = await kind.open({ deflate });
        const calls: Array<Array<Error | null | undefined>> = [];
        const all = Array.from(
          { length: 5 },
          (_, i) =>
            new Promise<void>((resolve) => {
              calls[i] = [];
              server.send(Buffer.alloc(256 * 1024), (error) => {
                calls[i]!.push(error);
                resolve();
              });
            }),
        );
        server.terminate();
        await Promise.all(all);
        await new Promise((resolve) => setImmediate(resolve)); // a second call would come by now
        t.ok(calls.every((c) => c.length === 1), `deflate ${deflate}: each callback once`);
        t.type(calls[4]![0], Error, `deflate ${deflate}: the last, never sent, failed`);
      }
    },
  ],
  [
    "an echo that waits for 'drain' keeps reading: 1 MiB echoed, then ping and close still answered",
    async (t, kind) => {
      const { server, client } = await kind.open();
      echoWithBackpressure(server);
      const echoed = next<[Buffer]>(client, 'message');
      client.send(Buffer.alloc(1024 * 1024, 1));
      t.equal((await echoed)[0].length, 1024 * 1024);
      const pong = next<[Buffer]>(client, 'pong');
      client.ping('still there?');
      t.equal((await within(pong, 5000, 'pong'))[0].toString(), 'still there?');
      t.equal(server.isPaused, false, 'the echo resumed after drain');
      const closed = next<[number]>(server, 'close');
      client.close(1000);
      t.equal((await within(closed, 5000, 'close'))[0], 1000);
    },
  ],
  [
    "the peer's abort ends the session with 1006 at once",
    async (t, kind) => {
      const { server, client } = await kind.open();
      const closed = next<[number]>(server, 'close');
      client.terminate();
      t.equal((await within(closed, 3000, "the server's close"))[0], 1006);
      let callbackError: Error | null | undefined;
      await new Promise<void>((resolve) =>
        server.send('after the abort', (error) => {
          callbackError = error;
          resolve();
        }),
      );
      t.type(callbackError, Error);
    },
  ],
];

for (const entry of sessionKinds.filter((k) => !process.env.SEAMS_KIND || k.name === process.env.SEAMS_KIND)) {
  t.test(`seams over ${entry.name}`, async (t) => {
    const kind = await entry.start();
    t.teardown(() => kind.close());
    for (const [name, run] of cases) await t.test(name, (t) => run(t, kind));
  });
}
