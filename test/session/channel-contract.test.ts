/**
 * The ByteChannel contract (src/session/byte-channel.ts), run unchanged
 * against every channel: the in-memory pair, the upgraded socket (HTTP/1.1),
 * the extended CONNECT stream (HTTP/2) and the request stream (HTTP/3), over
 * real loopback connections, from both ends.
 */
import t, { type Test } from 'tap';
import type { ByteChannel } from '../../src/session/byte-channel.js';
import { channelKinds, type ChannelPair } from './channel-pairs.js';

/** Everything a channel reports, and whether it reported it at a forbidden moment. */
class Recorder {
  readonly data: Buffer[] = [];
  readonly log: string[] = [];
  readonly violations: string[] = [];
  closeError: Error | undefined;
  closes = 0;
  drains = 0;
  ends = 0;
  /** True while one of our own calls into the channel runs (rule 1). */
  inCall = false;
  private waiters: Array<() => void> = [];

  constructor(readonly channel: ByteChannel) {
    this.call(() =>
      channel.bind({
        data: (chunk) => this.event('data', () => this.data.push(chunk)),
        drain: () => this.event('drain', () => this.drains++),
        end: () => this.event('end', () => this.ends++),
        close: (error) =>
          this.event('close', () => {
            this.closes++;
            this.closeError = error;
          }),
      }),
    );
  }

  call<T>(work: () => T): T {
    this.inCall = true;
    try {
      return work();
    } finally {
      this.inCall = false;
    }
  }

  get bytes(): number {
    return this.data.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /** Resolves once `condition` holds, checked after every event. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (condition()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  private event(name: string, record: () => void): void {
    if (this.inCall) this.violations.push(`'${name}' fired from inside a method call`);
    if (this.closes > 0) this.violations.push(`'${name}' fired after 'close'`);
    this.log.push(name);
    record();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** A write's callback, counted: the contract wants exactly one call each. */
function tracked() {
  const calls: Array<Error | null | undefined> = [];
  let settle: () => void = () => {};
  const done = new Promise<void>((resolve) => (settle = resolve));
  return {
    calls,
    done,
    callback: (error?: Error | null) => {
      calls.push(error);
      settle();
    },
  };
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Writes until the channel reports a full buffer (bounded: 64 MiB at most). */
function fill(side: Recorder): { writes: number; callbacks: ReturnType<typeof tracked>[] } {
  const callbacks: ReturnType<typeof tracked>[] = [];
  for (let writes = 1; writes <= 1024; writes++) {
    const cb = tracked();
    callbacks.push(cb);
    if (!side.call(() => side.channel.write(CHUNK, cb.callback))) return { writes, callbacks };
  }
  throw new Error('write() never returned false with 64 MiB buffered');
}

type Case = (t: Test, a: Recorder, b: Recorder) => Promise<void>;

const cases: Array<[string, Case]> = [
  [
    'bytes arrive in order; end() after them; close once both ended, without error',
    async (t, a, b) => {
      const sent = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
      for (let offset = 0; offset < sent.length; offset += 7000) a.call(() => a.channel.write(sent.subarray(offset, offset + 7000)));
      a.call(() => a.channel.end());
      await b.until(() => b.ends === 1);
      t.same(Buffer.concat(b.data), sent, 'every byte, in order, before the end');
      b.call(() => b.channel.end());
      await Promise.all([a.until(() => a.closes === 1), b.until(() => b.closes === 1)]);
      t.equal(a.closeError, undefined, 'orderly: no error on the ending side');
      t.equal(b.closeError, undefined, 'orderly: no error on the other side');
      t.equal(b.log.at(-1), 'close');
    },
  ],
  [
    'write() after end(): no throw, the callback gets an error, true is returned',
    async (t, a, b) => {
      a.call(() => a.channel.end());
      const cb = tracked();
      const result = a.call(() => a.channel.write(Buffer.from('late'), cb.callback));
      t.equal(result, true, 'nothing to wait for');
      t.equal(cb.calls.length, 0, 'not called from inside write()');
      await cb.done;
      t.equal(cb.calls.length, 1);
      t.type(cb.calls[0], Error);
      await b.until(() => b.ends === 1);
      t.equal(b.bytes, 0, 'the late bytes never left');
      b.call(() => b.channel.end());
      await a.until(() => a.closes === 1);
      t.equal(a.closeError, undefined, 'the late write did not turn the close into a failure');
    },
  ],
  [
    'write() after abort() and after close: no throw, callback with an error',
    async (t, a) => {
      const error = new Error('aborted by the test');
      a.call(() => a.channel.abort(error));
      a.call(() => a.channel.abort(error)); // idempotent
      const early = tracked();
      t.equal(a.call(() => a.channel.write(Buffer.from('x'), early.callback)), true);
      await a.until(() => a.closes === 1);
      const late = tracked();
      t.equal(a.call(() => a.channel.write(Buffer.from('y'), late.callback)), true);
      await Promise.all([early.done, late.done]);
      t.type(early.calls[0], Error);
      t.type(late.calls[0], Error);
      a.call(() => a.channel.end()); // no-op after close
      a.call(() => a.channel.abort()); // no-op after close
    },
  ],
  [
    'abort(error): close with an error on both sides, promptly; pending callbacks fail once each',
    async (t, a, b) => {
      b.call(() => b.channel.pause()); // b stops reading: a's writes pile up
      const { callbacks } = fill(a);
      const error = new Error('aborted by the test');
      a.call(() => a.channel.abort(error));
      // A paused TCP socket is not polled, so the kernel's news of a reset waits for its next read.
      b.call(() => b.channel.resume());
      await Promise.all([a.until(() => a.closes === 1), b.until(() => b.closes === 1 || b.ends === 1)]);
      t.equal(a.closeError, error, "our close reports our abort's error");
      if (b.closes === 1) {
        t.type(b.closeError, Error, "the peer's abort reaches the other side as an error");
      } else {
        // Linux reports a reset to a reader that had not caught up as the end of the stream.
        t.equal(b.channel.transport, 'http/1.1', 'only TCP may report an abort as an end');
      }
      await Promise.all(callbacks.map((cb) => cb.done));
      t.ok(
        callbacks.every((cb) => cb.calls.length === 1),
        'every write callback was called exactly once',
      );
      t.type(callbacks.at(-1)!.calls[0], Error, 'bytes that never left fail');
      const after = tracked();
      t.equal(b.call(() => b.channel.write(Buffer.from('z'), after.callback)), true, "the peer's channel does not throw either");
      await after.done;
      t.type(after.calls[0], Error);
    },
  ],
  [
    "drain comes once after write() returned false, and only then; each callback once, without error",
    async (t, a, b) => {
      b.call(() => b.channel.pause());
      const { writes, callbacks } = fill(a);
      t.ok(a.channel.bufferedAmount > 0, 'bytes wait in the channel');
      t.equal(a.drains, 0, 'no drain before the peer reads');
      b.call(() => b.channel.resume());
      await a.until(() => a.drains === 1);
      await b.until(() => b.bytes === writes * CHUNK.length);
      await Promise.all(callbacks.map((cb) => cb.done));
      t.ok(callbacks.every((cb) => cb.calls.length === 1 && !cb.calls[0]), 'every callback once, without error');
      // A small write that fits never asks for 'drain'.
      t.equal(a.call(() => a.channel.write(Buffer.from('small'))), true);
      await b.until(() => b.bytes === writes * CHUNK.length + 5);
      t.equal(a.drains, 1, 'no drain without a write that returned false');
    },
  ],
  [
    'pause() right after bind() holds back data from the start, and flow control reaches the writer',
    async (t, a, b) => {
      b.call(() => b.channel.pause()); // same tick as bind()
      a.call(() => a.channel.write(Buffer.from('first')));
      const { writes } = fill(a);
      t.ok(writes * CHUNK.length < 48 * 1024 * 1024, 'the writer is held back instead of the reader buffering everything');
      // Give the transport every chance to deliver what it should not.
      await new Promise((resolve) => setTimeout(resolve, 50));
      t.equal(b.data.length, 0, 'no data while paused');
      b.call(() => b.channel.resume());
      await b.until(() => b.bytes === 5 + writes * CHUNK.length);
      t.equal(Buffer.concat(b.data).subarray(0, 5).toString(), 'first', 'nothing was lost or reordered');
    },
  ],
  [
    "the peer's end does not close the channel; writes after it are safe; close once both ended",
    async (t, a, b) => {
      a.call(() => a.channel.end());
      await b.until(() => b.ends === 1);
      t.equal(b.closes, 0, "the peer's end alone does not close");
      const cb = tracked();
      b.call(() => b.channel.write(Buffer.from('after your end'), cb.callback));
      await cb.done;
      t.equal(cb.calls.length, 1, 'its callback is called once');
      b.call(() => b.channel.end());
      await Promise.all([a.until(() => a.closes === 1), b.until(() => b.closes === 1)]);
    },
  ],
];

for (const kind of channelKinds.filter((k) => !process.env.CONTRACT_KIND || k.name === process.env.CONTRACT_KIND)) {
  t.test(`channel contract: ${kind.name}`, async (t) => {
    const factory = await kind.start();
    t.teardown(() => factory.close());
    for (const [name, run] of cases) {
      for (const direction of ['server acts', 'client acts'] as const) {
        await t.test(`${name} (${direction})`, async (t) => {
          const pair: ChannelPair = await factory.open();
          const [acting, other] = direction === 'server acts' ? [pair.server, pair.client] : [pair.client, pair.server];
          const a = new Recorder(acting);
          const b = new Recorder(other);
          await run(t, a, b);
          // Whatever the case left open is torn down; then nothing may misbehave.
          a.call(() => a.channel.abort());
          await Promise.all([a.until(() => a.closes === 1), b.until(() => b.closes === 1)]);
          t.same([...a.violations, ...b.violations], [], 'no event inside a call, nothing after close');
          t.equal(a.closes + b.closes, 2, "'close' exactly once on each side");
        });
      }
    }
  });
}
