/**
 * RFC 9110 §5.6.2 tchar:
 *   "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *   "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** True if `value` is a non-empty token (RFC 9110 §5.6.2). */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (!isTokenChar(value.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * Splits comma-separated field lines into trimmed elements, skipping empty
 * ones as the `#rule` of RFC 9110 §5.6.1 allows.
 */
export function splitList(values: readonly string[]): string[] {
  const items: string[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const item = part.trim();
      if (item !== '') items.push(item);
    }
  }
  return items;
}

/** True when a comma-separated field contains `token`, compared case-insensitively. */
export function listHasToken(values: readonly string[], token: string): boolean {
  const wanted = token.toLowerCase();
  return splitList(values).some((item) => item.toLowerCase() === wanted);
}
