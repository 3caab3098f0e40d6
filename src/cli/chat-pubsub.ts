import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { ClusterWorkerAdapter } from '../pubsub/cluster-adapter.js';
import type { PubSubOptions } from '../pubsub/options.js';
import type { ServeConfig } from './config.js';

/**
 * The pub/sub options of the binary's server, made in this one place: the
 * adapter that carries `/chat/<room>` messages to other processes and the
 * slow-member policy. With --redis every process (and every worker) talks to
 * Redis itself; with --workers and no Redis the workers reach each other
 * through the cluster primary; otherwise rooms are local to the process.
 * The Redis client is loaded only when asked for: it adds to every start.
 */
export async function chatPubSub(config: ServeConfig, logger: Logger): Promise<PubSubOptions> {
  if (config.redis !== null) {
    const { RedisAdapter } = await import('../pubsub/redis-adapter.js');
    return { adapter: new RedisAdapter({ url: config.redis.url, required: config.redis.required, logger }) };
  }
  if (cluster.isWorker) return { adapter: new ClusterWorkerAdapter(process, logger) };
  return {};
}
