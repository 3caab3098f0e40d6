import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CloseCode } from '../protocol/close-codes.js';
import { kSendPrepared } from '../session/internal.js';
import { PreparedMessage } from '../session/prepared-message.js';
import { WebSocket, toBuffer, type SendData } from '../session/websocket.js';
import type { PubSubAdapter, PublishedMessage } from './adapter.js';
import { localAdapter } from './local-adapter.js';
import { DEFAULT_SLOW_MEMBER_LIMIT, type PubSubOptions, type SlowMemberPolicy } from './options.js';

export interface PublishOptions {
  /** Send as a binary message; defaults to true for everything but strings. */
  binary?: boolean;
  /** A member of the room that does not get this message (usually its sender). */
  except?: WebSocket;
}

/** Counters since the broker was made. */
export interface BrokerStats {
  /** publish() calls, and messages the adapter delivered from other processes. */
  published: number;
  remoteDelivered: number;
  /** Messages queued to members. */
  deliveries: number;
  /** Frames built: once per message, plus once per compressor setting among deflate members. */
  framings: number;
  /** Compressions done once for every member with the same compressor setting. */
  sharedCompressions: number;
  /** Messages skipped for slow members (policy 'drop'). */
  dropped: number;
  /** Slow members closed with 1013 (policy 'close'). */
  slowClosed: number;
}

/**
 * Rooms (topics) of WebSockets and the fan-out of messages published to them.
 * A published message is prepared once (one frame, one compression per
 * compressor setting) and the same bytes are queued to every member; the
 * adapter carries it to other processes, and what it delivers from them
 * reaches the members here the same way.
 */
export class Broker {
  /** This process's id in messages it hands to the adapter (to drop its echoes). */
  readonly origin = randomUUID();
  readonly stats: BrokerStats = { published: 0, remoteDelivered: 0, deliveries: 0, framings: 0, sharedCompressions: 0, dropped: 0, slowClosed: 0 };
  private readonly adapter: PubSubAdapter;
  private readonly slowLimit: number;
  private readonly slowPolicy: SlowMemberPolicy;
  private readonly logger: Logger;
  private readonly rooms = new Map<string, Set<WebSocket>>();
  /** The rooms of every member; an entry lives until the member's session closes. */
  private readonly memberships = new Map<WebSocket, Set<string>>();
  /** Members already reported as dropping messages: logged once each. */
  private readonly dropping = new WeakSet<WebSocket>();
  private started: Promise<void> | null = null;
  private running = false;

  constructor(options: PubSubOptions & { logger: Logger }) {
    this.adapter = options.adapter ?? localAdapter;
    const limit = options.slowMember?.limit ?? DEFAULT_SLOW_MEMBER_LIMIT;
    if (typeof limit !== 'number' || !(limit >= 0)) throw new RangeError('pubsub.slowMember.limit must be a number >= 0');
    const policy = options.slowMember?.policy ?? 'close';
    if (policy !== 'close' && policy !== 'drop') throw new RangeError("pubsub.slowMember.policy must be 'close' or 'drop'");
    this.slowLimit = limit;
    this.slowPolicy = policy;
    this.logger = options.logger;
  }

  /**
   * Starts the adapter (once; later calls return the same promise). Until
   * then rooms are local: nothing is published to or received from other
   * processes. Rejects when the adapter's backend is required and unreachable.
   */
  start(): Promise<void> {
    this.started ??= this.adapter.start((message) => this.onRemote(message)).then(() => {
      this.running = true;
      for (const topic of this.rooms.keys()) this.adapter.subscribe(topic);
    });
    return this.started;
  }

  /** Stops the adapter; rooms keep working locally. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.adapter.close();
  }

  /** Adds an open session to a room. Returns false when it was already a member or is not open. */
  join(ws: WebSocket, topic: string): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    let topics = this.memberships.get(ws);
    if (topics === undefined) {
      topics = new Set();
      this.memberships.set(ws, topics);
      ws.once('close', () => this.leaveAll(ws));
    }
    if (topics.has(topic)) return false;
    topics.add(topic);
    let room = this.rooms.get(topic);
    if (room === undefined) {
      room = new Set();
      this.rooms.set(topic, room);
      if (this.running) this.adapter.subscribe(topic);
    }
    room.add(ws);
    return true;
  }

  /** Removes a session from a room. Returns false when it was not a member. */
  leave(ws: WebSocket, topic: string): boolean {
    const topics = this.memberships.get(ws);
    if (topics === undefined || !topics.delete(topic)) return false;
    const room = this.rooms.get(topic)!;
    room.delete(ws);
    if (room.size === 0) {
      this.rooms.delete(topic);
      if (this.running) this.adapter.unsubscribe(topic);
    }
    return true;
  }

  /** Removes a session from every room (done by itself when the session closes). */
  leaveAll(ws: WebSocket): void {
    const topics = this.memberships.get(ws);
    if (topics === undefined) return;
    for (const topic of [...topics]) this.leave(ws, topic);
    this.memberships.delete(ws);
  }

  /** The rooms a session is in. */
  topicsOf(ws: WebSocket): string[] {
    return [...(this.memberships.get(ws) ?? [])];
  }

  /** Members of a room in this process. */
  memberCount(topic: string): number {
    return this.rooms.get(topic)?.size ?? 0;
  }

  /** Rooms with at least one member in this process. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /**
   * Publishes a message to a room: to its members here (all but `except`)
   * and, through the adapter once started, to the members in other
   * processes. Returns how many members here it was queued to.
   */
  publish(topic: string, data: SendData, options: PublishOptions = {}): number {
    const isString = typeof data === 'string';
    const payload = isString ? Buffer.from(data) : toBuffer(data);
    const isBinary = options.binary ?? !isString;
    this.stats.published++;
    if (this.running) this.adapter.publish({ topic, data: payload, isBinary, origin: this.origin });
    return this.deliverLocal(topic, payload, isBinary, options.except);
  }

  private onRemote(message: PublishedMessage): void {
    if (message.origin === this.origin) return;
    this.stats.remoteDelivered++;
    this.deliverLocal(message.topic, message.data, message.isBinary, undefined);
  }

  private deliverLocal(topic: string, payload: Buffer, isBinary: boolean, except: WebSocket | undefined): number {
    const room = this.rooms.get(topic);
    if (room === undefined) return 0;
    const message = new PreparedMessage(payload, isBinary);
    let queued = 0;
    for (const member of room) {
      if (member === except || member.readyState !== WebSocket.OPEN) continue;
      if (member.bufferedAmount > this.slowLimit && this.isSlow(member)) continue;
      if (member[kSendPrepared](message)) queued++;
    }
    this.stats.deliveries += queued;
    this.stats.framings += message.framings;
    this.stats.sharedCompressions += message.compressions;
    return queued;
  }

  /**
   * Applies the slow-member policy to a member past the limit; true when the
   * message must skip it. Memory stays bounded either way: a closed member
   * queues nothing more, a dropping one nothing while past the limit.
   */
  private isSlow(member: WebSocket): boolean {
    const buffered = member.bufferedAmount;
    if (this.slowPolicy === 'drop') {
      this.stats.dropped++;
      if (!this.dropping.has(member)) {
        this.dropping.add(member);
        this.logger.info({ session: member.id, buffered, limit: this.slowLimit }, 'slow room member: dropping messages for it');
      }
      return true;
    }
    this.stats.slowClosed++;
    this.logger.info({ session: member.id, buffered, limit: this.slowLimit }, 'slow room member: closing with 1013');
    // RFC 6455 §7.4.1 1013 (Try Again Later, IANA registry): the member fell
    // behind, it broke no rule (1008); it may reconnect and catch up.
    member.close(CloseCode.TryAgainLater, 'too slow to receive room messages');
    return true;
  }
}
