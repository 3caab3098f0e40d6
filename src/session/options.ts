/** Limits of one WebSocket session; every one has a safe default. */
export interface SessionLimits {
  /** Largest incoming message in bytes, after decompression (1009 beyond it). */
  maxMessageSize: number;
  /** Most frames one incoming message may span (1009 beyond it). */
  maxFramesPerMessage: number;
  /**
   * Most bytes that may wait to be sent; a peer that does not read gets its
   * session aborted when more pile up, so it cannot grow memory without bound.
   */
  maxBufferedAmount: number;
  /** How long to wait for the peer's close frame / end of transport after ours, in ms. */
  closeTimeout: number;
  /**
   * Interval of keepalive pings in ms; a peer that sends nothing for a whole
   * interval after a ping is disconnected. 0 disables the heartbeat.
   */
  heartbeatInterval: number;
}

export const DEFAULT_SESSION_LIMITS: Readonly<SessionLimits> = Object.freeze({
  maxMessageSize: 16 * 1024 * 1024,
  maxFramesPerMessage: 16 * 1024,
  maxBufferedAmount: 16 * 1024 * 1024,
  closeTimeout: 10_000,
  heartbeatInterval: 0,
});

export function resolveSessionLimits(options: Partial<SessionLimits> | undefined): SessionLimits {
  const limits = { ...DEFAULT_SESSION_LIMITS };
  for (const key of Object.keys(limits) as Array<keyof SessionLimits>) {
    const value = options?.[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`${key} must be a non-negative number`);
    }
    limits[key] = value;
  }
  return limits;
}
