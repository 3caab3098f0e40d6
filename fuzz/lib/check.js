// @ts-check
// Helpers shared by the fuzz targets: what counts as a finding, and how a
// target derives chunk boundaries from its input.
import { isDeepStrictEqual, inspect } from 'node:util';

/** A violated property: jazzer reports any exception that escapes the target as a finding. */
export class PropertyViolation extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'PropertyViolation';
  }
}

/**
 * Runs `fn` and returns its result, or the error it threw when that error is
 * an instance of one of `allowed` (the parser's documented, typed errors).
 * Anything else escapes and becomes a finding.
 * @template T
 * @param {() => T} fn
 * @param {...Function} allowed
 * @returns {{ ok: true, value: T } | { ok: false, error: Error }}
 */
export function expectOnly(fn, ...allowed) {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (allowed.some((type) => error instanceof type)) return { ok: false, error: /** @type {Error} */ (error) };
    throw error;
  }
}

/**
 * @param {unknown} actual
 * @param {unknown} expected
 * @param {string} what
 */
export function assertEqual(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new PropertyViolation(`${what}:\n  got      ${inspect(actual, { depth: 6 })}\n  expected ${inspect(expected, { depth: 6 })}`);
  }
}

/**
 * @param {unknown} condition
 * @param {string} what
 */
export function assert(condition, what) {
  if (!condition) throw new PropertyViolation(what);
}

/**
 * Cuts `data` into pieces whose sizes come from `seed` (a few bytes of the
 * fuzz input), so the fuzzer steers the chunking as well as the content.
 * Every size is 1..16 bytes, with an occasional large piece.
 * @param {Buffer} data
 * @param {Buffer} seed
 * @returns {Buffer[]}
 */
export function chunksFromSeed(data, seed) {
  const pieces = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const b = seed.length === 0 ? 1 : seed[i % seed.length];
    const size = b >= 0xf0 ? 256 + b : (b % 16) + 1;
    pieces.push(data.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

/**
 * The chunkings every chunk-independent parser must agree on: the whole
 * input at once, one byte at a time, and the fuzzer-chosen cut. Each is a
 * fresh copy (a parser may unmask or otherwise change its input in place).
 * @param {Buffer} data
 * @param {Buffer} seed
 * @returns {Array<[string, Buffer[]]>}
 */
export function chunkings(data, seed) {
  const copy = () => Buffer.from(data);
  const bytes = copy();
  return [
    ['one chunk', [copy()]],
    ['byte by byte', Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))],
    ['fuzzer-chosen chunks', chunksFromSeed(copy(), seed)],
  ];
}
