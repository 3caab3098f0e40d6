import type { ByteChannel } from '../session/byte-channel.js';
import type { WebSocket } from '../session/websocket.js';
import type { ClientConnectPlan, ClientHandshake } from './connect.js';
import type { AcceptedResponse } from './negotiation.js';

/**
 * The bookkeeping every client transport shares for one opening handshake:
 * the handshake timeout, exactly-once completion (open, failure, or handing
 * over to a fallback), and the cleanups a failure must run.
 */
export class HandshakeAttempt implements ClientHandshake {
  private settled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly plan: ClientConnectPlan,
  ) {
    this.timer = setTimeout(() => this.fail(new Error('opening handshake timed out')), plan.handshakeTimeout);
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

  /** The server accepted: the session opens on `channel`. */
  succeed(channel: ByteChannel, accepted: AcceptedResponse): void {
    if (!this.finish()) return;
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
    this.fail(new Error('WebSocket was closed before the connection was established'));
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    return true;
  }
}
