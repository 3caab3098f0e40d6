import type { Logger } from 'pino';
import type { DeflateOptions } from '../protocol/deflate/negotiation.js';
import type { ZlibLimiter } from '../protocol/deflate/zlib-limiter.js';
import type { ClientOptions } from '../session/client-options.js';
import type { SessionLimits } from '../session/options.js';

/** Everything a transport's client side needs to open a session for `ws`. */
export interface ClientConnectPlan {
  url: URL;
  protocols: string[];
  options: ClientOptions;
  limits: SessionLimits;
  deflate: Required<DeflateOptions> | null;
  limiter: ZlibLimiter;
  handshakeTimeout: number;
  logger: Logger;
}
