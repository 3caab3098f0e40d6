/** Small building blocks shared by the case files. */
import { OP, asciiText, bytes, pseudoRandomBytes, textFrame } from '../frames.js';
import type { CaseDef, CaseContext } from '../case-types.js';
import type { Session } from '../session.js';
import type { OpenOptions } from '../target.js';

export const TEXT = OP.TEXT;
export const BINARY = OP.BINARY;

/** payload of `n` bytes for a text (ASCII) or binary (pseudo-random) message */
export function payloadFor(opcode: number, n: number, seed = n): Uint8Array {
  return opcode === OP.TEXT ? bytes(asciiText(n, seed)) : pseudoRandomBytes(n, seed);
}

export const typeName = (opcode: number): string => (opcode === OP.TEXT ? 'text' : opcode === OP.BINARY ? 'binary' : `opcode ${opcode}`);

/**
 * Send `frames` in one write; expect the echo of (opcode, data); close cleanly.
 */
export function echoCase(
  id: string,
  title: string,
  frames: () => Uint8Array | Uint8Array[],
  opcode: number,
  data: () => Uint8Array,
  o: { open?: OpenOptions; skip?: string | false; timeoutFactor?: number } = {},
): CaseDef {
  return {
    id,
    title,
    skip: o.skip ?? false,
    run: async (c) => {
      const s = await c.open(o.open);
      const f = frames();
      await s.send(...(Array.isArray(f) ? f : [f]));
      await s.expectEcho(opcode, data(), c.env.timeoutMs * (o.timeoutFactor ?? 1));
      await s.closeNormally();
    },
  };
}

/**
 * Optionally run `before` (e.g. a valid echo round trip), then send `frames`
 * in one write and expect the server to fail the connection with `code`.
 */
export function failCase(
  id: string,
  title: string,
  frames: (s: Session) => Uint8Array | Uint8Array[],
  code: number | readonly number[] | ((c: CaseContext) => number | readonly number[]),
  o: { open?: OpenOptions; before?: (s: Session) => Promise<void>; skip?: string | false } = {},
): CaseDef {
  return {
    id,
    title,
    skip: o.skip ?? false,
    run: async (c) => {
      const s = await c.open(o.open);
      if (o.before) await o.before(s);
      const f = frames(s);
      await s.send(...(Array.isArray(f) ? f : [f]));
      await s.expectFail(typeof code === 'function' ? code(c) : code);
    },
  };
}

/** a valid text round trip, used as a prelude */
export async function roundTrip(s: Session, text = 'Hello, world!'): Promise<void> {
  await s.send(textFrame(text));
  await s.expectEcho(OP.TEXT, text);
}
