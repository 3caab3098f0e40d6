import type { ConformanceTransport } from '../report-types.js';
import type { DeflateParams, Negotiation } from './deflate.js';

/** How the client's direction ended: orderly (TCP FIN, END_STREAM, QUIC FIN) or abruptly (RST, RST_STREAM, RESET_STREAM). */
export type ClientEnd = 'end' | 'reset';

/**
 * One accepted WebSocket as raw bytes, whatever the transport: the fuzzing
 * server writes frames it built itself and reads the client's frames itself.
 */
export interface ClientConnection {
  readonly transport: ConformanceTransport;
  /** The request target, path and query ("/runCase?case=1&agent=x"). */
  readonly target: string;
  /** The client's Sec-WebSocket-Extensions, as sent. */
  readonly extensionOffer?: string;
  /** permessage-deflate as answered in the handshake (only the cases of categories 12 and 13 accept it). */
  readonly deflate?: DeflateParams;
  write(data: Uint8Array): void;
  /** Ends our direction in order: TCP FIN, END_STREAM, QUIC FIN. */
  end(): void;
  /** Aborts: TCP reset, RST_STREAM(CANCEL), RESET_STREAM(H3_REQUEST_CANCELLED). */
  abort(): void;
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once, when the client's direction ended or the connection is gone. */
  onEnd(listener: (how: ClientEnd) => void): void;
}

/** Calls `listener` at most once, whichever of several transport events comes first. */
export function once<T>(listener: (value: T) => void): (value: T) => void {
  let called = false;
  return (value: T) => {
    if (called) return;
    called = true;
    listener(value);
  };
}

/** Chooses the handshake's extension answer for a request target and the client's offer; undefined: none. */
export type Negotiator = (target: string, offer: string | undefined) => Negotiation | undefined;

/** A header that may come as several fields, joined as one list (RFC 9110 §5.3). */
export const joinField = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value);
