/** RFC 9110 §5.6.2 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(value: string): boolean {
  return TOKEN.test(value);
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
