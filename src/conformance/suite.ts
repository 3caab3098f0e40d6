/**
 * The conformance runner behind `trident test <url>`: frame-level cases
 * numbered like Autobahn|Testsuite's fuzzing client (1 framing, 2 ping/pong,
 * 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling,
 * 9 performance, 10 auto-fragmentation, 12/13 permessage-deflate) plus our own
 * categories from 20 on (handshakes over each transport, limits, masking,
 * length encoding, deflate negotiation), run against any ConformanceTarget
 * (./target.ts: the transport-neutral interface and the server contract).
 *
 * Every case opens its own connection(s), so cases are independent; every wait
 * has a timeout and every case a deadline, so a stalled server cannot hang
 * the run: runSuite() always returns one CaseResult per selected case.
 */
import { parseExtensions, Session, checkDeflateResponse } from './session.js';
import { CaseRecorder, UnimplementedError } from './recorder.js';
import type { CaseContext, CaseDef, CaseEnv } from './case-types.js';
import type { ConformanceTarget, OpenOptions, RawPeer } from './target.js';
import type { CaseResult } from './report-types.js';
import { CATEGORIES } from './categories.js';

export type { CaseContext, CaseDef, CaseEnv, Category } from './case-types.js';

/** Autobahn's largest messages (9.1.6): the size plan when the target declares no limit. */
export const ASSUMED_MAX_MESSAGE = 16 * 1024 * 1024;

export function makeEnv(target: ConformanceTarget): CaseEnv {
  return {
    target,
    timeoutMs: target.timeoutMs ?? 2000,
    maxMessageSize: target.limits?.maxMessageSize ?? ASSUMED_MAX_MESSAGE,
    maxFrames: target.limits?.maxFrames,
    limitsDeclared: target.limits !== undefined,
    invalidDeflateCloseCodes: target.expect?.invalidDeflateCloseCode !== undefined ? [target.expect.invalidDeflateCloseCode] : [1002, 1007],
    tooManyFramesCloseCode: target.expect?.tooManyFramesCloseCode ?? 1009,
    deflate: target.capabilities?.permessageDeflate ?? true,
  };
}

export interface PlannedCase {
  category: string;
  def: CaseDef;
}

/**
 * The cases that apply to `target`, in suite order. `select` matches ids with
 * patterns like "1.*", "9.1.*", "7.1.1" (a trailing ".*" matches the prefix and
 * everything below it).
 */
export function planCases(target: ConformanceTarget, select?: readonly string[]): PlannedCase[] {
  const env = makeEnv(target);
  const out: PlannedCase[] = [];
  for (const cat of CATEGORIES) {
    if (cat.transports && !cat.transports.includes(target.transport)) continue;
    for (const def of cat.cases(env)) {
      if (select && select.length && !select.some((p) => matchesCase(def.id, p))) continue;
      out.push({ category: `${cat.id} ${cat.title}`, def });
    }
  }
  return out;
}

export function matchesCase(id: string, pattern: string): boolean {
  const p = pattern.trim();
  if (p === '*' || p === '') return true;
  if (p.endsWith('.*')) return id === p.slice(0, -2) || id.startsWith(p.slice(0, -1));
  return id === p;
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
    /* an invalid offer is the case's business */
  }
  return min;
}

class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** Runs one case to a verdict; never throws, never outlives its deadline. */
export async function runCase(env: CaseEnv, planned: PlannedCase): Promise<CaseResult> {
  const { def } = planned;
  const started = performance.now();
  const base = { id: def.id, category: planned.category, title: def.title, transport: env.target.transport };
  if (def.skip) {
    return { ...base, verdict: 'INFORMATIONAL', reason: `not run: ${def.skip}`, observed: [], durationMs: 0 };
  }
  const rec = new CaseRecorder();
  const peers: RawPeer[] = [];
  const cleanups: Array<() => void> = [];
  const ctx: CaseContext = {
    t: rec,
    env,
    defer: (fn) => cleanups.push(fn),
    open: async (o: OpenOptions = {}) => {
      const peer = await env.target.open(o);
      peers.push(peer);
      rec.comment(`handshake: ${peer.handshake.status}${peer.handshake.protocol ? `, protocol ${peer.handshake.protocol}` : ''}${peer.handshake.extensions !== undefined ? `, extensions ${JSON.stringify(peer.handshake.extensions)}` : ''}`);
      let deflate: Session['deflate'];
      if (peer.handshake.extensions !== undefined) {
        const r = checkDeflateResponse(peer.handshake.extensions, /client_max_window_bits/i.test(o.extensions ?? ''), offeredClientWindow(o.extensions));
        if (r.problems.length) throw new Error(`invalid permessage-deflate response: ${r.problems.join('; ')}`);
        deflate = r.deflate;
      }
      return new Session(rec, peer, env.timeoutMs, deflate);
    },
  };
  const deadlineMs = def.timeoutMs ?? env.timeoutMs * 10;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      def.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(`the case did not finish within its deadline of ${deadlineMs} ms`)), deadlineMs);
      }),
    ]);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UnimplementedError) rec.unimplemented(err.message);
    else rec.fail(`${err.name}: ${err.message}`);
  } finally {
    clearTimeout(timer);
    for (const p of peers) p.destroy();
    for (const fn of cleanups) {
      try {
        fn();
      } catch {
        /* cleanup of an already broken resource */
      }
    }
  }
  return { ...base, ...rec.verdict(), durationMs: Math.round(performance.now() - started) };
}

export interface RunOptions {
  /** case patterns ("1.*,9.1.*" split at commas) */
  select?: readonly string[];
  /** called after each case, e.g. for progress output */
  onResult?: (r: CaseResult) => void;
}

/** Runs the selected cases one after the other against `target`. */
export async function runSuite(target: ConformanceTarget, o: RunOptions = {}): Promise<CaseResult[]> {
  const env = makeEnv(target);
  const results: CaseResult[] = [];
  for (const planned of planCases(target, o.select)) {
    const r = await runCase(env, planned);
    results.push(r);
    o.onResult?.(r);
  }
  return results;
}
