import { isToken } from '../protocol/tokens.js';

/**
 * Fields the application may not add to the success answer: connection-specific
 * fields, which HTTP/2 and HTTP/3 forbid outright (RFC 9113 §8.2.2, RFC 9114
 * §4.2) and which on HTTP/1.1 would contradict the front-end's own Upgrade and
 * Connection; Content-Length, which a 1xx or a 2xx to CONNECT must not carry
 * (RFC 9110 §8.6); and Sec-WebSocket-Accept, which only the HTTP/1.1 front-end
 * computes (RFC 6455 §4.2.2).
 */
const FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'sec-websocket-accept',
]);

/** RFC 9110 §5.5: field-vchar (VCHAR / obs-text) with SP and HTAB; no CR, LF, NUL or other controls. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Lets the application see and edit the success answer's fields as `ws`'s
 * `'Name: value'` lines (the 'headers' event), then reads them back. Every line
 * is checked: an invalid one is the application's bug, so this throws a plain
 * Error (a 500, logged at error with the line) and nothing of it is sent.
 */
export function editResponseFields(fields: ReadonlyArray<[string, string]>, edit: (lines: string[]) => void): Array<[string, string]> {
  const lines = fields.map(([name, value]) => `${name}: ${value}`);
  edit(lines);
  return lines.map(parseFieldLine);
}

function parseFieldLine(line: unknown): [string, string] {
  if (typeof line !== 'string') throw invalid(line, 'not a string');
  if (line.startsWith(':')) throw invalid(line, 'pseudo-fields belong to the transport');
  const colon = line.indexOf(':');
  const name = colon < 0 ? line : line.slice(0, colon);
  // RFC 9110 §5.6.2: a field name is a token (no spaces, no separators).
  if (colon < 0 || !isToken(name)) throw invalid(line, 'the name must be a token followed by ":"');
  if (FORBIDDEN.has(name.toLowerCase())) throw invalid(line, `${name} may not be set on the success answer`);
  // RFC 9110 §5.5: optional whitespace around the value is not part of it.
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (!FIELD_VALUE.test(value)) throw invalid(line, 'the value may hold visible characters, obs-text, SP and HTAB only: no CR, LF, NUL or other controls');
  return [name, value];
}

function invalid(line: unknown, why: string): Error {
  return new Error(`invalid response header line from a 'headers' listener: ${JSON.stringify(line)} (${why})`);
}
