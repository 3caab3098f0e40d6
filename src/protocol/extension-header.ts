/**
 * The |Sec-WebSocket-Extensions| header field (RFC 6455 §9.1, §11.3.2).
 *
 *   extension-list  = 1#extension
 *   extension       = extension-token *( ";" extension-param )
 *   extension-token = registered-token = token
 *   extension-param = token [ "=" (token | quoted-string) ]
 *       ; When using the quoted-string syntax variant, the value after
 *       ; quoted-string unescaping MUST conform to the 'token' ABNF.
 *
 * RFC 6455 §9.1 uses the RFC 2616 "implied *LWS" rule, so optional
 * whitespace (SP / HTAB) may appear around every separator. `token`,
 * `quoted-string` and the list rule are taken from RFC 7230 §3.2.6 and §7:
 * a recipient accepts empty list elements (`a,,b`).
 *
 * This module only does syntax. Which offers are acceptable (unknown or
 * duplicate parameters, bad values) is decided by each extension's
 * negotiator, so parameters are returned in order, duplicates included.
 */

import { isToken, isTokenChar } from './tokens.js';

export type ExtensionParamValue = string | true;

export interface ExtensionOffer {
  /** The extension token, as received (extension names are compared exactly). */
  name: string;
  /** Parameters in header order; `true` for a parameter without a value. */
  params: Array<[string, ExtensionParamValue]>;
}

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

function describe(s: string, i: number): string {
  if (i >= s.length) return 'end of header';
  const code = s.charCodeAt(i);
  const shown = code > 0x20 && code < 0x7f ? `"${s[i]}"` : `0x${code.toString(16).padStart(2, '0')}`;
  return `${shown} at index ${i}`;
}

/** Parse one header field line; appends to `out`. */
function parseLine(s: string, out: ExtensionOffer[]): void {
  const len = s.length;
  let i = 0;

  const skipOws = (): void => {
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c !== SP && c !== HTAB) break;
      i++;
    }
  };
  const readToken = (): string => {
    const start = i;
    while (i < len && isTokenChar(s.charCodeAt(i))) i++;
    return s.slice(start, i);
  };
  /** `i` is on the opening DQUOTE; returns the unescaped content. */
  const readQuoted = (): string => {
    const open = i;
    i++;
    let value = '';
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c === DQUOTE) {
        i++;
        return value;
      }
      if (c === BACKSLASH) {
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        i++;
        if (i >= len) break;
        const e = s.charCodeAt(i);
        if (e !== HTAB && (e < 0x20 || e === 0x7f || e > 0xff)) {
          throw new SyntaxError(`Invalid Sec-WebSocket-Extensions header: invalid escaped character ${describe(s, i)}`);
        }
        value += s[i];
        i++;
        continue;
      }
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      if (c !== HTAB && (c < 0x20 || c === 0x7f || c > 0xff)) {
        throw new SyntaxError(`Invalid Sec-WebSocket-Extensions header: invalid character in quoted string ${describe(s, i)}`);
      }
      value += s[i];
      i++;
    }
    throw new SyntaxError(`Invalid Sec-WebSocket-Extensions header: unterminated quoted string starting at index ${open}`);
  };

  for (;;) {
    skipOws();
    if (i >= len) return;
    if (s.charCodeAt(i) === COMMA) {
      // Empty list element: allowed by the RFC 7230 §7 list rule.
      i++;
      continue;
    }

    const nameAt = i;
    const name = readToken();
    if (name === '') {
      throw new SyntaxError(`Invalid Sec-WebSocket-Extensions header: expected an extension name, found ${describe(s, nameAt)}`);
    }
    const params: Array<[string, ExtensionParamValue]> = [];

    skipOws();
    while (i < len && s.charCodeAt(i) === SEMICOLON) {
      i++;
      skipOws();
      const paramAt = i;
      const param = readToken();
      if (param === '') {
        throw new SyntaxError(`Invalid Sec-WebSocket-Extensions header: expected a parameter name, found ${describe(s, paramAt)}`);
      }
      skipOws();
      let value: ExtensionParamValue = true;
      if (i < len && s.charCodeAt(i) === EQUALS) {
        i++;
        skipOws();
        const valueAt = i;
        if (i < len && s.charCodeAt(i) === DQUOTE) {
          value = readQuoted();
          // RFC 6455 §9.1: the unescaped quoted-string must be a token.
          if (!isToken(value)) {
            throw new SyntaxError(
              `Invalid Sec-WebSocket-Extensions header: quoted value of parameter "${param}" at index ${valueAt} is not a token after unescaping`,
            );
          }
        } else {
          value = readToken();
          if (value === '') {
            throw new SyntaxError(
              `Invalid Sec-WebSocket-Extensions header: expected a value for parameter "${param}", found ${describe(s, valueAt)}`,
            );
          }
        }
        skipOws();
      }
      params.push([param, value]);
    }

    out.push({ name, params });
    if (i >= len) return;
    if (s.charCodeAt(i) !== COMMA) {
      throw new SyntaxError(`Invalid Sec-WebSocket-Extensions header: unexpected ${describe(s, i)}`);
    }
    i++;
  }
}

/**
 * Parse all |Sec-WebSocket-Extensions| field lines of a message. The header
 * may be sent several times; RFC 7230 §3.2.2 makes that equivalent to one
 * comma-joined line, so offers are returned in order across lines.
 *
 * @throws SyntaxError on any violation of the RFC 6455 §9.1 grammar (the
 *   caller then fails the handshake, §9.1: "MUST immediately _Fail the
 *   WebSocket Connection_").
 */
export function parseExtensionHeader(values: readonly string[]): ExtensionOffer[] {
  const out: ExtensionOffer[] = [];
  for (const value of values) parseLine(value, out);
  return out;
}

/**
 * Serialise one extension with its parameters, e.g.
 * `permessage-deflate; server_no_context_takeover; client_max_window_bits=10`.
 *
 * Values are always written as tokens: RFC 6455 §9.1 requires a value to be
 * a token even when quoted, so quoting never makes a non-token valid.
 *
 * @throws TypeError if the name, a parameter name or a value is not a token
 *   (which also keeps CR/LF out of the header).
 */
export function formatExtension(name: string, params: ReadonlyArray<readonly [string, ExtensionParamValue]>): string {
  if (!isToken(name)) throw new TypeError(`Invalid extension name: ${JSON.stringify(name)}`);
  let out = name;
  for (const [param, value] of params) {
    if (!isToken(param)) throw new TypeError(`Invalid extension parameter name: ${JSON.stringify(param)}`);
    if (value === true) {
      out += `; ${param}`;
    } else {
      if (!isToken(value)) {
        throw new TypeError(`Invalid value for extension parameter "${param}": ${JSON.stringify(value)}`);
      }
      out += `; ${param}=${value}`;
    }
  }
  return out;
}
