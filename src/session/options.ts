/** Limits of one WebSocket session; every one has a safe default. */
export interface SessionLimits {
  /** Largest incoming message in bytes, after decompression (1009 beyond it); Infinity for none (0 means 0). */
  maxMessageSize: number;
  /** Most frames one incoming message may span (1009 beyond it); Infinity for none. */
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

/**
 * Limits that may be Infinity, for "no limit". `ws` spells that 0 (`maxPayload:
 * 0`, `maxFragments: 0`); here 0 keeps meaning 0, so that a limit computed down
 * to 0 never silently turns protection off, and "unbounded" is said outright.
 * Time limits stay finite: a timer cannot wait forever (Node fires at once).
 */
const MAY_BE_UNBOUNDED: ReadonlySet<keyof SessionLimits> = new Set(['maxMessageSize', 'maxFramesPerMessage']);

export function resolveSessionLimits(options: Partial<SessionLimits> | undefined): SessionLimits {
  const limits = { ...DEFAULT_SESSION_LIMITS };
  for (const key of Object.keys(limits) as Array<keyof SessionLimits>) {
    const value = options?.[key];
    if (value === undefined) continue;
    const finiteOrAllowed = Number.isFinite(value) || (value === Infinity && MAY_BE_UNBOUNDED.has(key));
    if (typeof value !== 'number' || !finiteOrAllowed || value < 0) {
      throw new RangeError(`${key} must be a non-negative number${MAY_BE_UNBOUNDED.has(key) ? ' or Infinity' : ''}`);
    }
    limits[key] = value;
  }
  return limits;
}
