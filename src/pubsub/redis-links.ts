import { createClient, createCluster, type RedisClientType, type RedisClusterType } from '@redis/client';

/**
 * The two ways to reach Redis for pub/sub, behind one shape: a standalone
 * server (or a primary behind a proxy) with classic PUBLISH/SUBSCRIBE, and a
 * Redis Cluster with sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7): classic
 * PUBLISH on a cluster is broadcast to every node over the cluster bus, while a
 * sharded channel lives on the one shard that owns its slot.
 */
export interface RedisLink {
  /** Commands can be sent now (publishes are dropped otherwise: no offline queue). */
  readonly ready: boolean;
  connect(): Promise<void>;
  publish(channel: string, payload: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: (payload: Buffer, channel: Buffer) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

export interface LinkEvents {
  /** Every (re)connection of the link's connections; node-redis resubscribes by itself. */
  onReady(): void;
  onError(error: Error): void;
  reconnectStrategy(retries: number, cause: Error): number | Error;
}

/**
 * A bound on the commands waiting for Redis's reply on one connection; past
 * it node-redis refuses the command (counted as dropped), so a slow Redis
 * cannot grow this process's memory.
 */
const MAX_QUEUED_COMMANDS = 10_000;

function clientOptions(url: string | undefined, events: LinkEvents) {
  return {
    ...(url === undefined ? {} : { url }),
    // At most once: a message that cannot go now is dropped, not queued for later.
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
    socket: { reconnectStrategy: events.reconnectStrategy, connectTimeout: 5000 },
  };
}

export class StandaloneLink implements RedisLink {
  // Two connections: one in subscriber mode (RESP2 allows only (UN)SUBSCRIBE,
  // PING and QUIT there) and one for PUBLISH, whose replies keep its order.
  private readonly publisher: RedisClientType;
  private readonly subscriber: RedisClientType;

  constructor(url: string, events: LinkEvents) {
    this.publisher = createClient(clientOptions(url, events)) as RedisClientType;
    this.subscriber = this.publisher.duplicate() as RedisClientType;
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', events.onError);
      client.on('ready', events.onReady);
    }
  }

  get ready(): boolean {
    return this.publisher.isReady && this.subscriber.isReady;
  }

  async connect(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
  }

  publish(channel: string, payload: Buffer): Promise<unknown> {
    return this.publisher.publish(channel, payload);
  }

  subscribe(channel: string, listener: (payload: Buffer, channel: Buffer) => void): Promise<void> {
    return this.subscriber.subscribe(channel, listener, true);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.subscriber.unsubscribe(channel);
  }

  async close(): Promise<void> {
    await Promise.allSettled([closeClient(this.publisher), closeClient(this.subscriber)]);
  }
}

export class ClusterLink implements RedisLink {
  private readonly cluster: RedisClusterType;
  private connected = false;

  constructor(url: string, events: LinkEvents) {
    this.cluster = createCluster({
      rootNodes: [{ url }],
      // Connections to discovered nodes are built from these defaults only.
      defaults: clientOptions(undefined, events),
    }) as RedisClusterType;
    this.cluster.on('error', events.onError);
    this.cluster.on('node-ready', events.onReady);
    this.cluster.on('node-error', (error: Error) => events.onError(error));
  }

  get ready(): boolean {
    return this.connected && this.cluster.isReady;
  }

  async connect(): Promise<void> {
    await this.cluster.connect();
    this.connected = true;
  }

  publish(channel: string, payload: Buffer): Promise<unknown> {
    return this.cluster.sPublish(channel, payload);
  }

  subscribe(channel: string, listener: (payload: Buffer, channel: Buffer) => void): Promise<void> {
    return this.cluster.sSubscribe(channel, listener, true);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.cluster.sUnsubscribe(channel);
  }

  async close(): Promise<void> {
    this.connected = false;
    await this.cluster.close().catch(() => this.cluster.destroy());
  }
}

async function closeClient(client: RedisClientType): Promise<void> {
  // close() waits for replies in flight; a client that is not open has nothing to wait for.
  if (client.isOpen) await client.close().catch(() => client.destroy());
  else client.destroy();
}

/** Whether the server at `url` runs in cluster mode (INFO cluster, `cluster_enabled:1`). */
export async function isClusterServer(url: string, events: LinkEvents): Promise<boolean> {
  const probe = createClient(clientOptions(url, events)) as RedisClientType;
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    const info = await probe.info('cluster');
    return /^cluster_enabled:1\s*$/m.test(info);
  } finally {
    await closeClient(probe);
  }
}
