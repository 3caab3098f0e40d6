/**
 * The seam between a server's rooms and other processes. The broker in this
 * process delivers a published message to its own members itself; an adapter
 * only carries messages to and from other processes (workers of one machine
 * through the cluster primary, machines through Redis). The default adapter
 * carries nothing: rooms are local to the process.
 *
 * Delivery across processes is at most once: an adapter never queues without
 * bound and never retries a message it could not hand over.
 */
export interface PublishedMessage {
  readonly topic: string;
  readonly data: Buffer;
  readonly isBinary: boolean;
  /** The publishing process's id, so an adapter can drop its own echoes. */
  readonly origin: string;
}

export interface PubSubAdapter {
  /**
   * Starts carrying messages; `deliver` is called for each message another
   * process published to a topic this process subscribed to, in the order that
   * process published them. Rejects when the backend is required and cannot be
   * reached.
   */
  start(deliver: (message: PublishedMessage) => void): Promise<void>;
  /** This process has its first member in `topic`. */
  subscribe(topic: string): void;
  /** This process has no member left in `topic`. */
  unsubscribe(topic: string): void;
  /** Hands the message to other processes; never throws, never blocks the publisher. */
  publish(message: PublishedMessage): void;
  close(): Promise<void>;
}
