/** RFC 6455 §7.4.1 status codes used by this implementation. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved: "no status received"; never sent on the wire. */
  NoStatus: 1005,
  /** Reserved: "closed abnormally" (no close frame); never sent on the wire. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  /** IANA registry: the server is overloaded or the peer fell behind; reconnecting later is fine. */
  TryAgainLater: 1013,
  /** Reserved: TLS handshake failure; never sent on the wire. */
  TlsHandshake: 1015,
} as const;

/**
 * RFC 6455 §7.4.1/§7.4.2 and the IANA registry: codes an endpoint may put in a
 * close frame. 1004, 1005, 1006 and 1015 are reserved and never appear on the
 * wire; 1012-1014 are registered by IANA (service restart, try again later,
 * bad gateway) and accepted like most implementations do; 3000-4999 are for
 * libraries, frameworks and applications.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}
