/** Token that lets the server front-ends construct server-side sessions. */
export const kServerSession: unique symbol = Symbol('trident.serverSession');
/** The session method that queues a broadcast message prepared once for many sessions (see PreparedMessage). */
export const kSendPrepared: unique symbol = Symbol('trident.sendPrepared');
