import type { IncomingHttpHeaders } from 'node:http';
import type { ByteChannel } from '../session/byte-channel.js';
import type { WebSocket } from '../session/websocket.js';
import type { ClientHandshake, HandshakeResponse, UnexpectedResponse } from '../session/client-options.js';
import type { ClientConnectPlan } from './plan.js';
import { HandshakeError, MAX_REFUSAL_BODY } from './handshake-error.js';
import type { AcceptedResponse } from './negotiation.js';

/** The body of a refusal as each transport delivers it (IncomingMessage, Http2Stream, Http3RequestStream). */
export interface RefusalBody {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The bookkeeping every client transport shares for one opening handshake:
 * the handshake timeout, exactly-once completion (open, failure, or handing
 * over to a fallback), and the cleanups a failure must run.
 */
export class HandshakeAttempt implements ClientHandshake {
  private settled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly cleanups: Array<() => void> = [];
  /** A refusal whose body is still arriving; reported as it stands if the timeout comes first. */
  private refusal: UnexpectedResponse | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly plan: ClientConnectPlan,
  ) {
    this.timer = setTimeout(() => {
      if (this.refusal) this.reportRefusal(this.refusal);
      else this.fail(new HandshakeError('TIMEOUT', `opening handshake timed out after ${plan.handshakeTimeout} ms`));
    }, plan.handshakeTimeout);
    this.timer.unref();
  }

  get done(): boolean {
    return this.settled;
  }

  /** Runs `cleanup` if the attempt fails (close a stream, release a pooled connection, ...). */
  onFailure(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  fail(error: Error): void {
    if (!this.finish()) return;
    for (const cleanup of this.cleanups) cleanup();
    this.plan.logger.debug({ url: this.plan.url.href, reason: error.message }, 'client handshake failed');
    this.ws.failHandshake(error);
  }

  /**
   * The server answered with something other than a WebSocket: read its body
   * (at most MAX_REFUSAL_BODY bytes, within the handshake timeout), then
   * report 'unexpected-response' and fail with a HandshakeError carrying it.
   */
  refuse(status: number, headers: IncomingHttpHeaders, body: RefusalBody): void {
    if (this.settled || this.refusal) return;
    const refusal: UnexpectedResponse = { status, headers, body: '' };
    this.refusal = refusal;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => {
      refusal.body = Buffer.concat(chunks).toString('utf8');
      this.reportRefusal(refusal);
    };
    body.on('data', (chunk) => {
      if (size >= MAX_REFUSAL_BODY) return;
      chunks.push(chunk.subarray(0, MAX_REFUSAL_BODY - size));
      size += chunk.length;
      if (size >= MAX_REFUSAL_BODY) finish();
    });
    body.once('end', finish);
    body.once('close', finish);
  }

  /**
   * The server accepted and its answer passed the checks: 'upgrade' reports
   * the answer, then the session opens on `channel`, unless an 'upgrade'
   * listener closed the WebSocket (as in `ws`).
   */
  succeed(channel: ByteChannel, accepted: AcceptedResponse, response: HandshakeResponse): void {
    if (this.settled) return;
    this.ws.emit('upgrade', response);
    if (!this.finish()) return channel.abort(new Error('closed by an upgrade listener'));
    this.ws.attach({
      role: 'client',
      channel,
      url: this.plan.url.href,
      ...accepted,
      compressionThreshold: this.plan.deflate?.threshold ?? 0,
      limits: this.plan.limits,
      logger: this.plan.logger,
    });
  }

  /** This transport cannot serve the origin: another one takes over (transport 'auto'). */
  handOver(next: () => void): void {
    if (this.finish()) next();
  }

  abort(): void {
    this.fail(new HandshakeError('ABORTED', 'WebSocket was closed before the connection was established'));
  }

  private reportRefusal(refusal: UnexpectedResponse): void {
    if (this.settled) return;
    // Like ws's 'unexpected-response', before 'error' and 'close'.
    this.ws.emit('unexpected-response', refusal);
    this.fail(new HandshakeError('UNEXPECTED_RESPONSE', `unexpected server response: ${refusal.status}`, { response: refusal }));
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    return true;
  }
}
