import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';

export type HeaderList = Record<string, string | number | readonly string[]>;

/**
 * A refused handshake: the HTTP status, extra headers and a short body that
 * the front-end sends instead of accepting the WebSocket. Thrown or returned
 * by validation, negotiation and application hooks alike.
 */
export class HandshakeRejection extends Error {
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: string;

  constructor(status: number, body?: string, headers: HeaderList = {}) {
    super(body ?? STATUS_CODES[status] ?? `status ${status}`);
    this.name = 'HandshakeRejection';
    if (!Number.isInteger(status) || status < 300 || status > 599) {
      throw new RangeError(`a rejection status must be 3xx, 4xx or 5xx, got ${status}`);
    }
    // Application-supplied headers must not be able to split the response.
    for (const [name, value] of Object.entries(headers)) {
      validateHeaderName(name);
      for (const item of Array.isArray(value) ? value : [value]) validateHeaderValue(name, String(item));
    }
    this.status = status;
    this.headers = headers;
    this.body = this.message;
  }
}

/** Shorthand for hooks: `throw rejectHandshake(401, 'login first', { 'www-authenticate': 'Bearer' })`. */
export function rejectHandshake(status: number, body?: string, headers?: HeaderList): HandshakeRejection {
  return new HandshakeRejection(status, body, headers);
}
