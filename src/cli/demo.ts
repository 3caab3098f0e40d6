import type { HandshakeRequest } from '../handshake/request.js';
import type { TransportName } from '../session/byte-channel.js';
import type { WebSocket } from '../session/websocket.js';

/** Plain GET path of the open-session counts per transport (JSON), polled by the landing page. */
export const SESSIONS_PATH = '/sessions';
/**
 * Query parameter of `/chat/<room>` that asks for a welcome: a first JSON text
 * message naming the transport. Opt-in, so that the room's messages stay the
 * only thing other clients receive.
 */
export const WELCOME_PARAMETER = 'welcome';

export type SessionCounts = Record<TransportName, number>;

/** Open sessions per transport, counted now (a page poll, not a hot path). */
export function sessionCounts(sessions: Iterable<WebSocket>): SessionCounts {
  const counts: SessionCounts = { 'http/1.1': 0, h2: 0, h3: 0 };
  for (const ws of sessions) if (ws.readyState === ws.OPEN && ws.transport !== undefined) counts[ws.transport]++;
  return counts;
}

/**
 * Sends the welcome when the client asked for it: before it joins its room,
 * so it is the first message. A browser cannot see which HTTP version carries
 * its WebSocket; the server knows.
 */
export function welcome(ws: WebSocket, request: HandshakeRequest, sessions: Iterable<WebSocket>): void {
  if (!request.searchParams.has(WELCOME_PARAMETER)) return;
  ws.send(JSON.stringify({ type: 'welcome', transport: request.transport, sessions: sessionCounts(sessions) }));
}
