/**
 * What a worker and the cluster primary tell each other about rooms, over the
 * cluster's IPC channel (serialization 'advanced', so payloads travel as
 * bytes, not as JSON arrays of numbers).
 */
export type RelayMessage =
  | { readonly trident: 'pubsub'; readonly op: 'subscribe' | 'unsubscribe'; readonly topic: string }
  | {
      readonly trident: 'pubsub';
      readonly op: 'publish';
      readonly topic: string;
      readonly data: Uint8Array;
      readonly isBinary: boolean;
      readonly origin: string;
    };

export function isRelayMessage(value: unknown): value is RelayMessage {
  return typeof value === 'object' && value !== null && (value as { trident?: unknown }).trident === 'pubsub';
}

/**
 * Messages handed to IPC and not yet written, past which further publishes to
 * that peer are dropped (at most once): a stalled reader must not grow the
 * writer's memory without bound.
 */
export const MAX_PENDING_IPC_MESSAGES = 10_000;
