import { isIP } from 'node:net';
import type { TransportName } from '../session/byte-channel.js';

/**
 * The peer's address as `net.Socket` names it, for every transport alike.
 * `ws` hands applications Node's IncomingMessage, and `req.socket.remoteAddress`
 * is common in code written for it. Over HTTP/2 and HTTP/3 many WebSockets
 * share one connection, so handing out the connection itself (to end or
 * configure) would reach beyond this WebSocket; only its address is given.
 */
export interface RemoteSocket {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** 'IPv4' or 'IPv6' (as `net.Socket.remoteFamily`), undefined when the address is unknown. */
  readonly remoteFamily: 'IPv4' | 'IPv6' | undefined;
}

export interface HandshakeRequestInit {
  transport: TransportName;
  /** GET for HTTP/1.1, CONNECT for HTTP/2 and HTTP/3. */
  method: string;
  /** The `:protocol` pseudo-header of an extended CONNECT (RFC 8441 §4); absent on HTTP/1.1. */
  connectProtocol?: string | undefined;
  /** 'http' or 'https' (from the connection on HTTP/1.1, from :scheme on HTTP/2 and HTTP/3). */
  scheme: string;
  authority: string;
  /** Path and query, as in an HTTP request target (`/chat/lobby?x=1`). */
  url: string;
  /** Field values by lower-case name; a field sent on several lines keeps each line. */
  headers: Record<string, string | string[] | undefined>;
  httpVersion: string;
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
}

/**
 * A WebSocket opening handshake as the shared negotiation code sees it,
 * independent of the transport it arrived on: HTTP/1.1 Upgrade, HTTP/2 or
 * HTTP/3 extended CONNECT. This is also what applications get in their hooks
 * and in the server's 'connection' event.
 */
export class HandshakeRequest {
  readonly transport: TransportName;
  readonly method: string;
  readonly connectProtocol: string | undefined;
  readonly scheme: string;
  readonly authority: string;
  /** Path and query (named like Node's `IncomingMessage.url`). */
  readonly url: string;
  readonly httpVersion: string;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  private readonly fields: Record<string, string | string[] | undefined>;
  private combined: Record<string, string> | null = null;
  private remote: RemoteSocket | null = null;

  constructor(init: HandshakeRequestInit) {
    this.transport = init.transport;
    this.method = init.method;
    this.connectProtocol = init.connectProtocol;
    this.scheme = init.scheme;
    this.authority = init.authority;
    this.url = init.url;
    this.httpVersion = init.httpVersion;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.fields = init.headers;
  }

  /** Each line of a field, in order (empty when absent). */
  headerValues(name: string): string[] {
    const value = this.fields[name.toLowerCase()];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }

  /**
   * A field's lines joined as RFC 9110 §5.3 allows (`, `; cookies with `; `
   * per RFC 6265 §5.4), or undefined when absent.
   */
  header(name: string): string | undefined {
    const values = this.headerValues(name);
    if (values.length === 0) return undefined;
    return values.join(name.toLowerCase() === 'cookie' ? '; ' : ', ');
  }

  /** All fields, each joined into one string, by lower-case name (like `IncomingMessage.headers`). */
  get headers(): Readonly<Record<string, string>> {
    if (this.combined === null) {
      const combined: Record<string, string> = {};
      for (const name of Object.keys(this.fields)) {
        const value = this.header(name);
        if (value !== undefined) combined[name] = value;
      }
      this.combined = combined;
    }
    return this.combined;
  }

  /** The peer's address in `net.Socket`'s names, so that `ws` code reading `req.socket.remoteAddress` runs unchanged on every transport. */
  get socket(): RemoteSocket {
    if (this.remote === null) {
      const family = this.remoteAddress === undefined ? 0 : isIP(this.remoteAddress);
      this.remote = Object.freeze({
        remoteAddress: this.remoteAddress,
        remotePort: this.remotePort,
        remoteFamily: family === 4 ? 'IPv4' : family === 6 ? 'IPv6' : undefined,
      });
    }
    return this.remote;
  }

  get pathname(): string {
    const query = this.url.indexOf('?');
    return query === -1 ? this.url : this.url.slice(0, query);
  }

  get searchParams(): URLSearchParams {
    const query = this.url.indexOf('?');
    return new URLSearchParams(query === -1 ? '' : this.url.slice(query + 1));
  }

  /** The WebSocket URI of this request (RFC 6455 §3: ws/wss, no fragment). */
  get websocketUrl(): string {
    return `${this.scheme === 'https' ? 'wss' : 'ws'}://${this.authority}${this.url}`;
  }
}
