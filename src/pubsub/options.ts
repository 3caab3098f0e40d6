import type { PubSubAdapter } from './adapter.js';

/**
 * What happens to a member that does not read what is published to it fast
 * enough: 'close' ends its session with 1013 (Try Again Later), 'drop' skips
 * messages for it (counted) until it caught up.
 */
export type SlowMemberPolicy = 'close' | 'drop';

export interface SlowMemberOptions {
  /**
   * A member whose `bufferedAmount` is above this many bytes when a message
   * is published to it is slow. Checked before the message is queued, so one
   * large message alone never makes a member slow. Default 1 MiB.
   */
  limit?: number;
  /** Default 'close'. */
  policy?: SlowMemberPolicy;
}

/** The `pubsub` option of a WebSocketServer. */
export interface PubSubOptions {
  /** Carries messages to and from other processes; default none (rooms are local to the process). */
  adapter?: PubSubAdapter;
  slowMember?: SlowMemberOptions;
}

export const DEFAULT_SLOW_MEMBER_LIMIT = 1024 * 1024;
