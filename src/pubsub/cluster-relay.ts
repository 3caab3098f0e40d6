import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { isRelayMessage, MAX_PENDING_IPC_MESSAGES, type RelayMessage } from './cluster-messages.js';

/**
 * The primary's side of ClusterWorkerAdapter: remembers which workers have
 * members in which topic and forwards each publish, in arrival order, to the
 * other workers of that topic. A worker that does not read its IPC channel
 * gets messages dropped (counted) instead of growing the primary's memory.
 */
export class ClusterRelay {
  private readonly topics = new Map<string, Set<Worker>>();
  private readonly pending = new Map<Worker, number>();
  private readonly names = new Map<Worker, number | string>();
  dropped = 0;

  constructor(private readonly logger?: Logger) {}

  /** `name` is how logs call the worker (its slot number). */
  attach(worker: Worker, name: number | string = worker.id): void {
    this.pending.set(worker, 0);
    this.names.set(worker, name);
    worker.on('message', (message: unknown) => {
      if (isRelayMessage(message)) this.onMessage(worker, message);
    });
    worker.once('exit', () => this.forget(worker));
  }

  private onMessage(from: Worker, message: RelayMessage): void {
    if (message.op === 'subscribe') {
      let workers = this.topics.get(message.topic);
      if (!workers) this.topics.set(message.topic, (workers = new Set()));
      workers.add(from);
      // Bounded by rooms x workers; tells when a worker starts to get a room's messages.
      this.logger?.debug({ worker: this.names.get(from), topic: message.topic }, 'relay: worker subscribed');
    } else if (message.op === 'unsubscribe') {
      this.leave(from, message.topic);
    } else {
      for (const worker of this.topics.get(message.topic) ?? []) {
        if (worker !== from) this.forward(worker, message);
      }
    }
  }

  private forward(worker: Worker, message: RelayMessage): void {
    const pending = this.pending.get(worker) ?? 0;
    if (pending >= MAX_PENDING_IPC_MESSAGES || !worker.isConnected()) {
      this.dropped++;
      return;
    }
    this.pending.set(worker, pending + 1);
    worker.send(message, undefined, {}, () => this.pending.set(worker, (this.pending.get(worker) ?? 1) - 1));
  }

  private leave(worker: Worker, topic: string): void {
    const workers = this.topics.get(topic);
    workers?.delete(worker);
    if (workers?.size === 0) this.topics.delete(topic);
  }

  private forget(worker: Worker): void {
    this.pending.delete(worker);
    this.names.delete(worker);
    for (const topic of [...this.topics.keys()]) this.leave(worker, topic);
  }
}
