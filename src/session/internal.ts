/** Token that lets the server front-ends construct server-side sessions. */
export const kServerSession: unique symbol = Symbol('trident.serverSession');
