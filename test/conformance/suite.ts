/**
 * trident-ws conformance suite: frame-level cases organised like the Autobahn
 * fuzzing client's categories (1 framing, 2 ping/pong, 3 reserved bits,
 * 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling, 8 limits, 9 protocol
 * details, 10 auto-fragmentation, 12/13 permessage-deflate), run against any
 * ConformanceTarget (see ./target.ts for the exact interface and the server
 * contract). HTTP/1.1 handshake cases live in ./http1-handshake.ts.
 *
 * Exported interface (types in ./target.ts):
 *
 *   runConformance(t: Test, target: ConformanceTarget): Promise<void>
 *   listCases(target): Array<{ category; id; title; skip? }>
 *
 *   interface ConformanceTarget {
 *     name: string;                                   // 'http/1.1', later 'h2', 'h3'
 *     open(opts?: OpenOptions): Promise<RawPeer>;     // rejects with HandshakeRejectedError on a refused handshake
 *     limits: { maxMessageSize: number; maxFrames?: number };
 *     expect?: { invalidDeflateCloseCode?: number;   // default 1007
 *                tooManyFramesCloseCode?: number };  // default 1009
 *     capabilities?: { permessageDeflate?: boolean }; // default true
 *     knownDeviations?: Record<string, string>;       // case id or prefix -> reason; assertions become TODO
 *     timeoutMs?: number;                             // per wait, default 2000
 *     only?: string[];                                // category ids to run
 *   }
 *   interface OpenOptions { path?: string; protocols?: string[]; extensions?: string; headers?: Record<string, string> }  // path default '/echo'
 *   interface RawPeer {
 *     readonly handshake: { status: number; protocol?: string; extensions?: string; headers: Record<string, string | string[] | undefined> };
 *     write(bytes: Uint8Array): Promise<void>;        // resolves when handed to the transport, never rejects
 *     nextFrame(timeoutMs?: number): Promise<ServerFrame>;  // parsed by ../helpers/frames.ts; rejects on timeout / PeerEndedError
 *     ended(timeoutMs?: number): Promise<'end' | 'reset'>;  // orderly end vs abort; rejects on timeout
 *     end(): void; destroy(): void;
 *   }
 *
 * Every case opens its own connection(s), so cases are independent; each
 * wait has a timeout; nothing sleeps.
 */
import type { Test, TestOpts } from 'tap';
import { parseExtensions, Session, checkDeflateResponse } from './session.js';
import { makeAssert, runBody } from './assert.js';
import type { Assert } from './assert.js';
import type { ConformanceTarget, OpenOptions, RawPeer } from './target.js';
import { basicCategories } from './cases/basic.js';
import { fragmentationCategory } from './cases/fragmentation.js';
import { utf8Category } from './cases/utf8.js';
import { closeCategory } from './cases/close.js';
import { limitsCategories } from './cases/limits.js';
import { deflateCategories } from './cases/deflate.js';

export * from './target.js';
export { Session } from './session.js';

export interface CaseEnv {
  target: ConformanceTarget;
  timeoutMs: number;
  maxMessageSize: number;
  maxFrames: number | undefined;
  invalidDeflateCloseCode: number;
  tooManyFramesCloseCode: number;
  deflate: boolean;
}

export interface CaseContext {
  /** assertions (TODO-marked for a declared deviation) */
  t: Assert;
  env: CaseEnv;
  /** open a connection (default path /echo) and wrap it in a Session */
  open(opts?: OpenOptions): Promise<Session>;
}

export interface CaseDef {
  id: string;
  title: string;
  /** skip with this reason (capability not declared, limit too small, ...) */
  skip?: string | false;
  /** tap timeout for the whole case, default 20 s */
  timeoutMs?: number;
  run(c: CaseContext): Promise<void>;
}

export interface Category {
  id: string;
  title: string;
  cases(env: CaseEnv): CaseDef[];
}

export const CATEGORIES: Category[] = [
  ...basicCategories,
  fragmentationCategory,
  utf8Category,
  closeCategory,
  ...limitsCategories,
  ...deflateCategories,
];

export function makeEnv(target: ConformanceTarget): CaseEnv {
  return {
    target,
    timeoutMs: target.timeoutMs ?? 2000,
    maxMessageSize: target.limits.maxMessageSize,
    maxFrames: target.limits.maxFrames,
    invalidDeflateCloseCode: target.expect?.invalidDeflateCloseCode ?? 1007,
    tooManyFramesCloseCode: target.expect?.tooManyFramesCloseCode ?? 1009,
    deflate: target.capabilities?.permessageDeflate ?? true,
  };
}

/** the reason, if the case id (or a prefix of it at a '.' boundary) is a declared deviation */
export function deviationFor(target: ConformanceTarget, id: string): string | undefined {
  for (const [k, v] of Object.entries(target.knownDeviations ?? {})) {
    if (id === k || id.startsWith(k + '.')) return v;
  }
  return undefined;
}

function selected(target: ConformanceTarget, cat: Category): boolean {
  return !target.only || target.only.includes(cat.id);
}

export function listCases(target: ConformanceTarget): Array<{ category: string; id: string; title: string; skip?: string }> {
  const env = makeEnv(target);
  const out: Array<{ category: string; id: string; title: string; skip?: string }> = [];
  for (const cat of CATEGORIES) {
    if (!selected(target, cat)) continue;
    for (const c of cat.cases(env)) {
      const e: { category: string; id: string; title: string; skip?: string } = { category: `${cat.id} ${cat.title}`, id: c.id, title: c.title };
      if (c.skip) e.skip = c.skip;
      out.push(e);
    }
  }
  return out;
}

function offeredClientWindow(offer: string | undefined): number | undefined {
  if (!offer) return undefined;
  let min: number | undefined;
  try {
    for (const e of parseExtensions(offer)) {
      if (e.name !== 'permessage-deflate') continue;
      for (const [k, v] of e.params) {
        if (k === 'client_max_window_bits' && v !== undefined && /^[0-9]+$/.test(v)) {
          min = Math.min(min ?? 15, Number(v));
        }
      }
    }
  } catch {
    /* an invalid offer is the test's business */
  }
  return min;
}

async function runCase(t: Test, env: CaseEnv, c: CaseDef): Promise<void> {
  const opts: TestOpts = { timeout: c.timeoutMs ?? 20000 };
  if (c.skip) opts.skip = c.skip;
  const dev = deviationFor(env.target, c.id);
  const todo = dev ? `known deviation of ${env.target.name}: ${dev}` : undefined;
  await t.test(`${c.id} ${c.title}${todo ? ' [known deviation]' : ''}`, opts, async (tt) => {
    const a = makeAssert(tt, todo);
    const peers: RawPeer[] = [];
    tt.teardown(() => {
      for (const p of peers) p.destroy();
    });
    const ctx: CaseContext = {
      t: a,
      env,
      open: async (o: OpenOptions = {}) => {
        const peer = await env.target.open(o);
        peers.push(peer);
        let deflate: Session['deflate'];
        if (peer.handshake.extensions !== undefined) {
          const r = checkDeflateResponse(
            peer.handshake.extensions,
            /client_max_window_bits/i.test(o.extensions ?? ''),
            offeredClientWindow(o.extensions),
          );
          if (r.problems.length) throw new Error(`invalid permessage-deflate response: ${r.problems.join('; ')}`);
          deflate = r.deflate;
        }
        return new Session(a, peer, env.timeoutMs, deflate);
      },
    };
    await runBody(a, todo, () => c.run(ctx));
  });
}

/** Run every frame-level category against `target`, each category a tap subtest. */
export async function runConformance(t: Test, target: ConformanceTarget): Promise<void> {
  const env = makeEnv(target);
  for (const cat of CATEGORIES) {
    if (!selected(target, cat)) continue;
    await t.test(`${cat.id} ${cat.title} [${target.name}]`, async (tt) => {
      for (const c of cat.cases(env)) await runCase(tt, env, c);
    });
  }
}
