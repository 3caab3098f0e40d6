// `new WebSocket(url)` reaches the client through a hook the client installs when it
// loads (the session layer sits below the client and cannot import it).
import './client/connect.js';
export { WebSocket } from './session/websocket.js';
export type { BinaryType, MessageData, SendData, SendOptions, WebSocketEventMap } from './session/websocket.js';
export { WebSocketServer } from './server/websocket-server.js';
export type { ServerOptions, ListenOptions, WebSocketServerEventMap } from './server/websocket-server.js';
export type { ClientOptions, HandshakeResponse, UnexpectedResponse } from './session/client-options.js';
export { Broker } from './pubsub/broker.js';
export type { BrokerStats, PublishOptions } from './pubsub/broker.js';
export type { PubSubOptions, SlowMemberOptions, SlowMemberPolicy } from './pubsub/options.js';
export type { PubSubAdapter, PublishedMessage } from './pubsub/adapter.js';
export { HandshakeError } from './client/handshake-error.js';
export type { HandshakeErrorCode } from './client/handshake-error.js';
export { HandshakeRequest } from './handshake/request.js';
export { HandshakeRejection, rejectHandshake } from './handshake/rejection.js';
export type { AuthOutcome, NegotiationOptions } from './handshake/negotiate.js';
export type { DeflateOptions } from './protocol/deflate/negotiation.js';
export { CloseCode } from './protocol/close-codes.js';
export { ProtocolError } from './protocol/errors.js';
export { DEFAULT_SESSION_LIMITS } from './session/options.js';
export type { SessionLimits } from './session/options.js';
export type { ByteChannel, ByteChannelEvents, TransportName } from './session/byte-channel.js';
export { MessageEvent, CloseEvent, ErrorEvent } from './session/events.js';
// HTTP/3 needs the prebuilt quiche binding (linux-x64): check before listen({ http3 }).
export { quicAvailable, QuicUnavailableError } from './quic/binding.js';
// Types that public signatures use, so that applications can name them too.
export type { SendCallback } from './protocol/outbox.js';
export type { EventListenerLike, WebSocketEvent } from './session/events.js';
export type { RemoteSocket, HandshakeRequestInit } from './handshake/request.js';
export type { AnyHttpServer, Http2Limits, RequestHandler } from './server/http-servers.js';
export type { Http3ListenOptions } from './server/attach-http3.js';
