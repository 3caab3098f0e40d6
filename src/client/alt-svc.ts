/**
 * HTTP/3 endpoints learned from Alt-Svc (RFC 7838) on HTTP/1.1 and HTTP/2
 * answers, so that transport 'auto' can try HTTP/3 (RFC 9114 §3.1.1) for the
 * next WebSocket to the same origin, as browsers do for requests.
 */
const known = new Map<string, { port: number; expires: number }>();

/** Remembers the `h3` alternative of an Alt-Svc value for `origin` (same host only). */
export function rememberAltSvc(origin: string, value: string | undefined, now = Date.now()): void {
  if (value === undefined) return;
  if (value.trim() === 'clear') {
    known.delete(origin);
    return;
  }
  for (const entry of value.split(',')) {
    // alt-value = protocol-id "=" alt-authority *( OWS ";" OWS parameter ); we take same-host h3 only.
    const match = /^\s*h3=":(\d{1,5})"((?:\s*;\s*[a-z]+=\S+?)*)\s*$/i.exec(entry);
    if (!match) continue;
    const maxAge = /;\s*ma=(\d+)/i.exec(match[2] ?? '');
    const seconds = maxAge ? Number(maxAge[1]) : 86_400; // RFC 7838 §3.1: default 24 hours
    known.set(origin, { port: Number(match[1]), expires: now + seconds * 1000 });
    return;
  }
}

/** The HTTP/3 port advertised for `origin`, if still fresh. */
export function knownHttp3Port(origin: string, now = Date.now()): number | undefined {
  const entry = known.get(origin);
  if (entry === undefined) return undefined;
  if (entry.expires <= now) {
    known.delete(origin);
    return undefined;
  }
  return entry.port;
}

/** Forgets an alternative that failed (RFC 7838 §2.4: clients fall back to the origin). */
export function forgetAltSvc(origin: string): void {
  known.delete(origin);
}
