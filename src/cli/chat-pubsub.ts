import type { Logger } from 'pino';
import type { PubSubOptions } from '../pubsub/options.js';
import type { ServeConfig } from './config.js';

/**
 * The pub/sub options of the binary's server, made in this one place: the
 * adapter that carries `/chat/<room>` messages to other processes (none by
 * default: rooms are local to the process) and the slow-member policy.
 */
export function chatPubSub(_config: ServeConfig, _logger: Logger): PubSubOptions {
  return {};
}
