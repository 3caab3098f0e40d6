/**
 * Redis could not be reached when the adapter was required to start. Apart
 * from the adapter so that the binary can recognise it without loading the
 * Redis client (only `--redis` loads it).
 */
export class RedisUnavailableError extends Error {
  readonly code = 'REDIS_UNAVAILABLE';
  override readonly name = 'RedisUnavailableError';
}
