import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { PublishedMessage, PubSubAdapter } from './adapter.js';
import { decodeEnvelope, encodeEnvelope } from './redis-envelope.js';
import { RedisUnavailableError } from './redis-unavailable.js';

export { RedisUnavailableError };
import { ClusterLink, isClusterServer, StandaloneLink, type LinkEvents, type RedisLink } from './redis-links.js';

export interface RedisAdapterOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /**
   * true (default): start() rejects when Redis cannot be reached. false: serve
   * locally and keep trying in the background.
   */
  required?: boolean;
  /** Sharded pub/sub on a Redis Cluster; 'auto' (default) asks the server (INFO cluster). */
  cluster?: boolean | 'auto';
  /** Channel name = prefix + topic (default `trident:`), so several apps can share one Redis. */
  channelPrefix?: string;
  logger?: Logger;
  /** Publish bytes awaiting Redis's reply past which new publishes are dropped (default 16 MiB). */
  maxPendingBytes?: number;
  /** Reconnect backoff: first delay and cap in ms (defaults 100 and 5000). */
  backoff?: { initialMs: number; maxMs: number };
}

export interface RedisAdapterStats {
  /** Messages handed to Redis. */
  published: number;
  /** Messages whose remote fan-out was dropped (Redis unreachable or too much pending). */
  dropped: number;
  /** Messages from other processes handed to the broker. */
  delivered: number;
  /** Own messages Redis echoed back, not delivered again. */
  echoes: number;
}


/** Own origins remembered for echo dropping; a broker uses one, the bound only guards misuse. */
const MAX_OWN_ORIGINS = 16;

/**
 * Carries room messages between processes over Redis pub/sub (one channel per
 * topic). Delivery is at most once: no offline queue, no retry; a message
 * published while Redis is unreachable reaches this process's members only
 * (the broker delivers locally before calling publish) and is counted as
 * dropped. Messages of one publisher keep their order because they travel on
 * one connection (standalone) or to the one shard that owns the channel
 * (cluster), and Redis forwards each channel's messages in arrival order.
 *
 * Emits 'connected' each time messages cross processes again and
 * 'disconnected' when Redis becomes unreachable.
 */
export class RedisAdapter extends EventEmitter implements PubSubAdapter {
  private readonly options: Required<Omit<RedisAdapterOptions, 'logger'>>;
  private readonly logger: Logger | undefined;
  private readonly topics = new Set<string>();
  private readonly ownOrigins = new Set<string>();
  private readonly pendingSubscriptions = new Set<Promise<unknown>>();
  private readonly counters: RedisAdapterStats = { published: 0, dropped: 0, delivered: 0, echoes: 0 };
  private link: RedisLink | null = null;
  private deliver: ((message: PublishedMessage) => void) | null = null;
  private pendingBytes = 0;
  private everReady = false;
  private subscribedOnce = false;
  private closed = false;
  /** Open while Redis is unreachable: drops are logged once per outage, with a total at its end. */
  private outage: { since: number; droppedAtStart: number } | null = null;

  constructor(options: RedisAdapterOptions) {
    super();
    this.options = {
      url: options.url,
      required: options.required ?? true,
      cluster: options.cluster ?? 'auto',
      channelPrefix: options.channelPrefix ?? 'trident:',
      maxPendingBytes: options.maxPendingBytes ?? 16 * 1024 * 1024,
      backoff: options.backoff ?? { initialMs: 100, maxMs: 5000 },
    };
    this.logger = options.logger?.child({ component: 'redis-adapter' });
  }

  get stats(): Readonly<RedisAdapterStats> {
    return { ...this.counters };
  }

  /** Redis is reachable and messages cross processes now. */
  get connected(): boolean {
    return this.link?.ready ?? false;
  }

  async start(deliver: (message: PublishedMessage) => void): Promise<void> {
    this.deliver = deliver;
    const connecting = this.connect();
    if (this.options.required) {
      try {
        await connecting;
      } catch (error) {
        await this.close();
        const cause = error instanceof Error ? ((error as { socketError?: Error }).socketError ?? error) : error;
        throw new RedisUnavailableError(`Redis at ${redactedUrl(this.options.url)} is unreachable: ${String((cause as Error)?.message ?? cause)}`, { cause });
      }
      return;
    }
    // Optional: serve locally now; the link keeps retrying with backoff.
    connecting.catch((error: unknown) => {
      if (!this.closed) this.logger?.error({ err: error }, 'redis adapter stopped trying');
    });
  }

  /** 'cluster' (sharded pub/sub) or 'standalone' once known. */
  get mode(): 'cluster' | 'standalone' | null {
    return this.link === null ? null : this.link instanceof ClusterLink ? 'cluster' : 'standalone';
  }

  subscribe(topic: string): void {
    this.topics.add(topic);
    if (this.link) this.track(this.link.subscribe(this.channel(topic), this.onPayload), 'subscribe', topic);
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic);
    if (this.link) this.track(this.link.unsubscribe(this.channel(topic)), 'unsubscribe', topic);
  }

  /** Resolves when every (un)subscribe sent so far was confirmed by Redis or failed. */
  async settled(): Promise<void> {
    await Promise.all(this.pendingSubscriptions);
  }

  publish(message: PublishedMessage): void {
    this.rememberOrigin(message.origin);
    const link = this.link;
    if (link === null || !link.ready || this.pendingBytes + message.data.length > this.options.maxPendingBytes) {
      this.drop(message.topic);
      return;
    }
    const envelope = encodeEnvelope(message);
    this.pendingBytes += envelope.length;
    this.counters.published++;
    link.publish(this.channel(message.topic), envelope).then(
      () => (this.pendingBytes -= envelope.length),
      (error: unknown) => {
        this.pendingBytes -= envelope.length;
        // Sent but unanswered (the connection broke): it may or may not have
        // reached Redis; at most once means it is not sent again.
        this.counters.published--;
        this.drop(message.topic, error);
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const link = this.link;
    this.link = null;
    await link?.close();
  }

  private async connect(): Promise<void> {
    const events: LinkEvents = {
      onReady: () => this.onReady(),
      onError: (error) => this.onError(error),
      reconnectStrategy: (retries, cause) => this.nextDelay(retries, cause),
    };
    const cluster = this.options.cluster === 'auto' ? await isClusterServer(this.options.url, events) : this.options.cluster;
    if (this.closed) return;
    const link = cluster ? new ClusterLink(this.options.url, events) : new StandaloneLink(this.options.url, events);
    this.link = link;
    await link.connect();
    for (const topic of this.topics) await link.subscribe(this.channel(topic), this.onPayload);
    this.subscribedOnce = true;
    this.logger?.info({ cluster, topics: this.topics.size }, 'redis adapter connected');
    this.onReady();
  }

  private nextDelay(retries: number, cause: Error): number | Error {
    if (this.closed) return new RedisUnavailableError('redis adapter closed');
    if (!this.everReady && this.options.required) {
      return cause;
    }
    this.openOutage(cause);
    // Exponential backoff with full jitter, so many servers do not reconnect in step.
    const ceiling = Math.min(this.options.backoff.maxMs, this.options.backoff.initialMs * 2 ** Math.min(retries, 16));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private onReady(): void {
    this.everReady = true;
    // The first time, 'connected' waits for the subscriptions made before it
    // (connect() calls back); on reconnects the client resubscribed before 'ready'.
    if (!this.subscribedOnce || !this.link?.ready) return;
    this.emit('connected');
    if (this.outage !== null) {
      const { since, droppedAtStart } = this.outage;
      this.outage = null;
      this.logger?.info({ downMs: Date.now() - since, dropped: this.counters.dropped - droppedAtStart }, 'redis reachable again: cross-process fan-out resumed');
    }
  }

  private onError(error: Error): void {
    if (this.outage === null && this.everReady) this.openOutage(error);
    else this.logger?.debug({ err: error }, 'redis connection error');
  }

  private openOutage(cause: Error): void {
    if (this.outage !== null) return;
    this.outage = { since: Date.now(), droppedAtStart: this.counters.dropped };
    this.emit('disconnected');
    this.logger?.warn({ err: cause }, 'redis unreachable: delivering locally only, reconnecting with backoff');
  }

  private drop(topic: string, error?: unknown): void {
    if (this.outage === null && !this.connected) this.openOutage(error instanceof Error ? error : new Error('redis not ready'));
    this.counters.dropped++;
    // Once per outage at warn (openOutage); each drop at debug, so logs stay bounded.
    this.logger?.debug({ topic, dropped: this.counters.dropped, err: error }, 'remote fan-out dropped');
  }

  private readonly onPayload = (payload: Buffer, channel: Buffer): void => {
    const topic = channel.toString('utf8').slice(this.options.channelPrefix.length);
    // A topic unsubscribed while the connection was down may still be resubscribed by the client.
    if (!this.topics.has(topic)) return;
    const message = decodeEnvelope(topic, payload);
    if (message === null) {
      this.logger?.debug({ topic, bytes: payload.length }, 'foreign message on a room channel ignored');
      return;
    }
    if (this.ownOrigins.has(message.origin)) {
      this.counters.echoes++;
      return;
    }
    this.counters.delivered++;
    this.deliver?.(message);
  };

  private track(request: Promise<void>, what: string, topic: string): void {
    // A failure is harmless: the client resubscribes its channels on reconnect.
    const settled = request.catch((error: unknown) => this.logger?.debug({ err: error, topic }, `${what} failed`));
    this.pendingSubscriptions.add(settled);
    void settled.finally(() => this.pendingSubscriptions.delete(settled));
  }

  private channel(topic: string): string {
    return this.options.channelPrefix + topic;
  }

  private rememberOrigin(origin: string): void {
    if (this.ownOrigins.has(origin)) return;
    if (this.ownOrigins.size >= MAX_OWN_ORIGINS) this.ownOrigins.delete(this.ownOrigins.values().next().value!);
    this.ownOrigins.add(origin);
  }
}

/** The URL without its password, for logs and errors. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
