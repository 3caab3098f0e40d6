/**
 * The rules that make an HTTP/3 message well-formed at the field level
 * (RFC 9114 §4.1.2, §4.2, §4.3, §10.3). A message that breaks them is
 * malformed: a stream error of type H3_MESSAGE_ERROR (§4.1.2). The same checks
 * guard what we send ("An endpoint MUST NOT generate …"), reported there as a
 * TypeError to the caller.
 *
 * Method-specific rules (which pseudo-header fields a CONNECT or an extended
 * CONNECT needs, RFC 9114 §4.4 / RFC 8441 §4) are left to the caller, who can
 * answer them with a proper status code; only `:method` itself is required here.
 */
import { H3_MESSAGE_ERROR, Http3Error, streamError } from './errors.js';

/** A field section as a list of (name, value) pairs, in wire order; names and values are latin1 byte strings. */
export type HeaderList = Array<[string, string]>;

/**
 * RFC 9114 §4.2: "An endpoint MUST NOT generate an HTTP/3 field section
 * containing connection-specific fields; any message containing
 * connection-specific fields MUST be treated as malformed" (RFC 9110 §7.6.1
 * lists them). TE is the exception, with the value "trailers" only.
 */
export const CONNECTION_SPECIFIC_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** RFC 9114 §4.3.1, plus :protocol (RFC 8441 §4, RFC 9220 §3) when we enabled extended CONNECT. */
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path']);

/** tchar (RFC 9110 §5.6.2) without the upper-case letters, which HTTP/3 forbids in names (§4.2). */
const LOWERCASE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const HAS_UPPERCASE = /[A-Z]/;
/**
 * field-content (RFC 9110 §5.5): visible bytes, obs-text (0x80–0xff), and SP /
 * HTAB between them — never NUL, CR, LF or another control byte (§10.3 of
 * RFC 9114 names CR, LF and NUL as the dangerous ones), never leading or
 * trailing whitespace. Anything beyond 0xff cannot be a byte and is refused.
 */
const INVALID_VALUE_BYTE = /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/;
const EDGE_WHITESPACE = /^[ \t]|[ \t]$/;
const STATUS = /^[1-5][0-9][0-9]$/;

export interface RequestRules {
  /** Accept :protocol (we sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1). */
  allowProtocol: boolean;
}

function malformed(message: string): Http3Error {
  return streamError(H3_MESSAGE_ERROR, `malformed message: ${message}`);
}

function checkValue(name: string, value: string): void {
  if (INVALID_VALUE_BYTE.test(value)) throw malformed(`invalid character in the value of "${name}"`);
  if (EDGE_WHITESPACE.test(value)) throw malformed(`leading or trailing whitespace in the value of "${name}"`);
}

function checkRegular(name: string, value: string, request: boolean): void {
  if (HAS_UPPERCASE.test(name)) throw malformed(`upper-case field name "${name}"`);
  if (!LOWERCASE_TOKEN.test(name)) throw malformed(`invalid field name ${JSON.stringify(name)}`);
  if (CONNECTION_SPECIFIC_FIELDS.has(name)) throw malformed(`connection-specific field "${name}"`);
  checkValue(name, value);
  if (name === 'te') {
    // §4.2: TE "MAY be present in an HTTP/3 request header; when it is, it MUST
    // NOT contain any value other than 'trailers'" (a token: case-insensitive).
    if (!request) throw malformed('TE in a response');
    if (value.toLowerCase() !== 'trailers') throw malformed(`TE "${value}" (only "trailers" is allowed)`);
  }
}

/**
 * Walks a header section: pseudo-header fields first (§4.3: one after a
 * regular field is malformed), each known and at most once, then regular
 * fields. Returns the pseudo-header fields by name.
 */
function checkSection(fields: HeaderList, allowedPseudo: ReadonlySet<string>, request: boolean): Map<string, string> {
  const pseudo = new Map<string, string>();
  let regularSeen = false;
  for (const [name, value] of fields) {
    if (name.length === 0) throw malformed('empty field name');
    if (name.charCodeAt(0) === 0x3a) {
      if (regularSeen) throw malformed(`pseudo-header field "${name}" after a regular field`);
      if (!allowedPseudo.has(name)) throw malformed(`unknown or misplaced pseudo-header field "${name}"`);
      if (pseudo.has(name)) throw malformed(`duplicate pseudo-header field "${name}"`);
      checkValue(name, value);
      pseudo.set(name, value);
    } else {
      regularSeen = true;
      checkRegular(name, value, request);
    }
  }
  return pseudo;
}

/** Request header section rules; returns the pseudo-header fields. Throws H3_MESSAGE_ERROR. */
export function checkRequestHeaders(fields: HeaderList, rules: RequestRules): Map<string, string> {
  const allowed = rules.allowProtocol ? new Set([...REQUEST_PSEUDO, ':protocol']) : REQUEST_PSEUDO;
  const pseudo = checkSection(fields, allowed, true);
  const method = pseudo.get(':method');
  // §4.3.1: every request carries exactly one :method (CONNECT included, §4.4).
  if (method === undefined || method.length === 0) throw malformed('no :method');
  // §4.3.1: ":path … MUST NOT be empty for 'http' or 'https' URIs".
  const scheme = pseudo.get(':scheme');
  if ((scheme === 'http' || scheme === 'https') && pseudo.get(':path') === '') throw malformed('empty :path');
  return pseudo;
}

/** Response header section rules (§4.3.2); returns the status code. Throws H3_MESSAGE_ERROR. */
export function checkResponseHeaders(fields: HeaderList): number {
  const pseudo = checkSection(fields, new Set([':status']), false);
  const status = pseudo.get(':status');
  if (status === undefined) throw malformed('no :status');
  if (!STATUS.test(status)) throw malformed(`invalid :status "${status}"`);
  // §4.5: "HTTP/3 does not support … the 101 (Switching Protocols) informational status code".
  if (status === '101') throw malformed('101 Switching Protocols does not exist in HTTP/3');
  return Number(status);
}

/** Trailer section rules: no pseudo-header fields at all (§4.3). Throws H3_MESSAGE_ERROR. */
export function checkTrailers(fields: HeaderList, request: boolean): void {
  checkSection(fields, new Set(), request);
}

/** Runs a check on fields we are about to send, turning a violation into a TypeError for the caller. */
export function checkOutgoing<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof Http3Error) throw new TypeError(error.message.replace('malformed message', 'invalid header list'));
    throw error;
  }
}

/** The first value of a regular field, or undefined. */
export function headerValue(fields: HeaderList, name: string): string | undefined {
  for (const [n, v] of fields) if (n === name) return v;
  return undefined;
}
