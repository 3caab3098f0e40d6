import type { HandshakeRequest } from '../handshake/request.js';
import type { Broker } from '../pubsub/broker.js';
import type { WebSocket } from '../session/websocket.js';

const ROOM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The binary's endpoints: `/echo` and `/chat/<room>`. */
export function isEndpoint(pathname: string): boolean {
  return pathname === '/echo' || (pathname.startsWith('/chat/') && ROOM_NAME.test(pathname.slice(6)));
}

/**
 * Echoes every message back with its type. When the peer reads more slowly
 * than it sends, reading pauses until the replies drained, so memory stays
 * bounded by the transport's buffers.
 */
export function serveEcho(ws: WebSocket): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // Once the close handshake started, send() fails without backpressure: no
    // 'drain' would come, and a paused session would never read the peer's
    // close frame (the close would wait for its timeout).
    if (!ws.send(data, { binary: isBinary }) && ws.readyState === ws.OPEN) {
      ws.pause();
      ws.once('drain', () => ws.resume());
    }
  });
}

/**
 * Chat rooms: every message goes to everyone in the room, the sender
 * included, through the server's broker (so, with an adapter, to the room's
 * members in other processes too). The broker drops members when they close.
 */
export class ChatRooms {
  constructor(private readonly broker: Broker) {}

  join(ws: WebSocket, request: HandshakeRequest): void {
    const topic = request.pathname.slice(1); // 'chat/<room>'
    this.broker.join(ws, topic);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.broker.publish(topic, data, { binary: isBinary });
    });
  }

  get size(): number {
    return this.broker.roomCount;
  }
}
