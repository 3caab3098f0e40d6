/**
 * Rooms across workers without Redis: ClusterWorkerAdapter in each worker and
 * ClusterRelay in the primary, joined here by in-memory IPC channels that
 * deliver asynchronously and in order, as node:cluster's do. Order, no echo
 * to the publisher, topic filtering, and the bounded IPC backlog.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import t from 'tap';
import type { PublishedMessage } from '../../src/pubsub/adapter.js';
import { ClusterWorkerAdapter, type IpcChannel } from '../../src/pubsub/cluster-adapter.js';
import { MAX_PENDING_IPC_MESSAGES, type RelayMessage } from '../../src/pubsub/cluster-messages.js';
import { ClusterRelay } from '../../src/pubsub/cluster-relay.js';

/**
 * One worker's two ends: `process` in the worker and the primary's `Worker`.
 * Messages are structured-cloned (as with serialization 'advanced') and
 * delivered on a later turn; `stalled` holds the worker's outgoing messages
 * (and their send callbacks) to model a primary that does not read.
 */
function ipcPair() {
  const workerSide = new EventEmitter() as EventEmitter & IpcChannel;
  const primarySide = new EventEmitter() as EventEmitter & Worker;
  const held: Array<() => void> = [];
  const pair = { stalled: false, workerSide, primarySide, release: () => held.splice(0).forEach((deliver) => deliver()) };
  workerSide.send = (message: RelayMessage, _handle: undefined, _options: object, callback: (error: Error | null) => void) => {
    const copy = structuredClone(message);
    const deliver = (): void => {
      primarySide.emit('message', copy);
      callback(null);
    };
    if (pair.stalled) held.push(deliver);
    else setImmediate(deliver);
    return true;
  };
  Object.assign(primarySide, {
    isConnected: () => true,
    send: (message: RelayMessage, _handle: undefined, _options: object, callback: (error: Error | null) => void) => {
      const copy = structuredClone(message);
      setImmediate(() => {
        workerSide.emit('message', copy);
        callback(null);
      });
      return true;
    },
  });
  return pair;
}

/** A worker: its adapter, started, and what it delivered. */
async function worker(relay: ClusterRelay) {
  const ipc = ipcPair();
  relay.attach(ipc.primarySide);
  const adapter = new ClusterWorkerAdapter(ipc.workerSide);
  const received: PublishedMessage[] = [];
  await adapter.start((message) => received.push(message));
  return { ipc, adapter, received };
}

/** Resolves after every message in flight (each hop is one setImmediate) has landed. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
};

t.test('publishes reach the other workers of the topic, in order, as Buffers; never the publisher', async (t) => {
  const relay = new ClusterRelay();
  const [one, two, three] = [await worker(relay), await worker(relay), await worker(relay)];
  one.adapter.subscribe('room');
  two.adapter.subscribe('room');
  three.adapter.subscribe('elsewhere');
  await settle();
  for (let i = 0; i < 100; i++) one.adapter.publish({ topic: 'room', data: Buffer.from(`m${i}`), isBinary: i % 2 === 0, origin: 'one' });
  await settle();
  t.same(
    two.received.map((m) => [m.topic, m.data.toString(), m.isBinary, m.origin]),
    Array.from({ length: 100 }, (_, i) => ['room', `m${i}`, i % 2 === 0, 'one']),
    'worker two got all 100 in order with type and origin',
  );
  t.ok(Buffer.isBuffer(two.received[0]!.data), 'the payload is a Buffer again after IPC');
  t.equal(one.received.length, 0, 'the publishing worker gets no echo');
  t.equal(three.received.length, 0, 'a worker without members in the topic gets nothing');

  two.adapter.unsubscribe('room');
  await settle();
  one.adapter.publish({ topic: 'room', data: Buffer.from('late'), isBinary: false, origin: 'one' });
  await settle();
  t.equal(two.received.length, 100, 'nothing after unsubscribe');
});

t.test('a primary that does not read: the worker drops past the bound instead of queueing', async (t) => {
  const relay = new ClusterRelay();
  const one = await worker(relay);
  const two = await worker(relay);
  two.adapter.subscribe('room');
  await settle();
  one.ipc.stalled = true;
  const extra = 50;
  for (let i = 0; i < MAX_PENDING_IPC_MESSAGES + extra; i++) one.adapter.publish({ topic: 'room', data: Buffer.from([i & 0xff]), isBinary: true, origin: 'one' });
  t.equal(one.adapter.stats.published, MAX_PENDING_IPC_MESSAGES, 'at most the bound is handed to IPC');
  t.equal(one.adapter.stats.dropped, extra, 'the rest is dropped and counted');
  one.ipc.release();
  one.ipc.stalled = false;
  await settle();
  t.equal(two.received.length, MAX_PENDING_IPC_MESSAGES, 'what was handed over arrives');
  one.adapter.publish({ topic: 'room', data: Buffer.from('after'), isBinary: false, origin: 'one' });
  await settle();
  t.equal(two.received.at(-1)?.data.toString(), 'after', 'publishing resumes once the backlog drained');
});

t.test('a dead worker is forgotten by the relay', async (t) => {
  const relay = new ClusterRelay();
  const one = await worker(relay);
  const two = await worker(relay);
  two.adapter.subscribe('room');
  await settle();
  two.ipc.primarySide.emit('exit', 1, null);
  // A message to a worker the relay still listed would be sent and counted as pending.
  one.adapter.publish({ topic: 'room', data: Buffer.from('x'), isBinary: false, origin: 'one' });
  await settle();
  t.equal(two.received.length, 0, 'nothing sent to the dead worker');
  t.equal(relay.dropped, 0, 'and nothing counted as dropped: it is simply not a subscriber any more');
});
