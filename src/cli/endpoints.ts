import type { HandshakeRequest } from '../handshake/request.js';
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

/** Chat rooms: every message goes to everyone in the room, the sender included. */
export class ChatRooms {
  private readonly rooms = new Map<string, Set<WebSocket>>();

  join(ws: WebSocket, request: HandshakeRequest): void {
    const name = request.pathname.slice('/chat/'.length);
    let room = this.rooms.get(name);
    if (!room) {
      room = new Set();
      this.rooms.set(name, room);
    }
    room.add(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      for (const member of room) {
        if (member.readyState === member.OPEN) member.send(data, { binary: isBinary });
      }
    });
    ws.once('close', () => {
      room.delete(ws);
      if (room.size === 0) this.rooms.delete(name);
    });
  }

  get size(): number {
    return this.rooms.size;
  }
}
