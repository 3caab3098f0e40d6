import type { Logger } from 'pino';
import type { PublishedMessage, PubSubAdapter } from './adapter.js';
import { isRelayMessage, MAX_PENDING_IPC_MESSAGES, type RelayMessage } from './cluster-messages.js';

/** The IPC end a worker talks through: `process` in a node:cluster worker. */
export interface IpcChannel {
  send?(message: RelayMessage, sendHandle: undefined, options: object, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Rooms across the workers of one `trident serve --workers N`, without Redis:
 * each worker hands its publishes to the cluster primary, which forwards them
 * to the other workers with members in the topic (ClusterRelay). IPC keeps
 * one worker's messages in order and so does the primary's forwarding. At
 * most once: a message the channel cannot take now is dropped and counted.
 */
export class ClusterWorkerAdapter implements PubSubAdapter {
  private pending = 0;
  private deliver: ((message: PublishedMessage) => void) | null = null;
  readonly stats = { published: 0, dropped: 0, delivered: 0 };

  constructor(
    private readonly channel: IpcChannel = process,
    private readonly logger?: Logger,
  ) {}

  start(deliver: (message: PublishedMessage) => void): Promise<void> {
    if (typeof this.channel.send !== 'function') return Promise.reject(new Error('ClusterWorkerAdapter needs an IPC channel (a node:cluster worker)'));
    this.deliver = deliver;
    this.channel.on('message', this.onMessage);
    return Promise.resolve();
  }

  subscribe(topic: string): void {
    this.send({ trident: 'pubsub', op: 'subscribe', topic });
  }

  unsubscribe(topic: string): void {
    this.send({ trident: 'pubsub', op: 'unsubscribe', topic });
  }

  publish(message: PublishedMessage): void {
    const { topic, data, isBinary, origin } = message;
    if (this.send({ trident: 'pubsub', op: 'publish', topic, data, isBinary, origin })) this.stats.published++;
    else {
      this.stats.dropped++;
      this.logger?.debug({ topic, dropped: this.stats.dropped }, 'cross-worker fan-out dropped: IPC backlog full');
    }
  }

  close(): Promise<void> {
    this.channel.off('message', this.onMessage);
    this.deliver = null;
    return Promise.resolve();
  }

  private send(message: RelayMessage): boolean {
    if (this.pending >= MAX_PENDING_IPC_MESSAGES || typeof this.channel.send !== 'function') return false;
    this.pending++;
    try {
      this.channel.send(message, undefined, {}, () => this.pending--);
      return true;
    } catch (error) {
      // The channel is closed: the primary is gone and this worker is about to be.
      this.pending--;
      this.logger?.debug({ err: error }, 'IPC channel closed');
      return false;
    }
  }

  private readonly onMessage = (message: unknown): void => {
    // The relay never sends a worker's own publishes back to it: no echo to drop here.
    if (!isRelayMessage(message) || message.op !== 'publish') return;
    this.stats.delivered++;
    const data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
    this.deliver?.({ topic: message.topic, data, isBinary: message.isBinary, origin: message.origin });
  };
}
