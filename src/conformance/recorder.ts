/**
 * The assertion surface the cases use, recording instead of throwing: every
 * check that fails is kept with what was found, every notable event is kept
 * as an observation, and at the end the recorder turns that into one of
 * Autobahn|Testsuite's verdicts (report-types.ts).
 */
import type { Verdict } from './report-types.js';

export interface Assert {
  ok(value: unknown, message?: string, extra?: Record<string, unknown>): boolean;
  notOk(value: unknown, message?: string, extra?: Record<string, unknown>): boolean;
  equal(found: unknown, wanted: unknown, message?: string, extra?: Record<string, unknown>): boolean;
  not(found: unknown, notWanted: unknown, message?: string, extra?: Record<string, unknown>): boolean;
  notMatch(found: string, pattern: RegExp, message?: string): boolean;
  pass(message?: string): boolean;
  fail(message?: string, extra?: Record<string, unknown>): boolean;
  /** an observation for the report (frames, status codes, timings) */
  comment(...args: unknown[]): void;
  /** allowed by the RFC but not what it recommends (Autobahn's NON-STRICT) */
  nonStrict(reason: string): void;
  /** behaviour the RFC leaves open: reported, never judged (Autobahn's INFORMATIONAL) */
  informational(reason: string): void;
  /** the outcome worth reporting when the case passes (e.g. a time) */
  result(text: string): void;
  /** number of failed checks so far */
  readonly failures: number;
}

/** Thrown by a case when the server lacks an optional feature (e.g. permessage-deflate). */
export class UnimplementedError extends Error {
  override name = 'UnimplementedError';
}

const MAX_OBSERVED = 60;

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

export class CaseRecorder implements Assert {
  private readonly failed: string[] = [];
  private readonly nonStrictReasons: string[] = [];
  private readonly infoReasons: string[] = [];
  private unimplementedReason: string | undefined;
  private okReason = 'behaved as the RFC requires';
  readonly observed: string[] = [];
  private dropped = 0;

  private check(passed: boolean, message: string, extra?: Record<string, unknown>): boolean {
    if (!passed) {
      const parts = ['found', 'wanted'].filter((k) => extra && k in extra).map((k) => `${k} ${show(extra![k])}`);
      const detail = parts.length ? ` (${parts.join(', ')})` : '';
      this.failed.push(message + detail);
      this.comment(`FAILED CHECK: ${message}${detail}`);
    }
    return passed;
  }

  ok(v: unknown, m = 'expected a truthy value', e?: Record<string, unknown>): boolean {
    return this.check(!!v, m, e);
  }
  notOk(v: unknown, m = 'expected a falsy value', e?: Record<string, unknown>): boolean {
    return this.check(!v, m, e);
  }
  equal(found: unknown, wanted: unknown, m = 'should be equal', e?: Record<string, unknown>): boolean {
    return this.check(found === wanted, m, { ...e, found, wanted });
  }
  not(found: unknown, notWanted: unknown, m = 'should differ', e?: Record<string, unknown>): boolean {
    return this.check(found !== notWanted, m, { ...e, found, wanted: `anything but ${show(notWanted)}` });
  }
  notMatch(found: string, pattern: RegExp, m = 'should not match'): boolean {
    return this.check(!pattern.test(found), m, { found, wanted: `no match for ${pattern}` });
  }
  pass(m?: string): boolean {
    if (m !== undefined) this.comment(m);
    return true;
  }
  fail(m = 'failed', e?: Record<string, unknown>): boolean {
    return this.check(false, m, e);
  }
  comment(...args: unknown[]): void {
    if (this.observed.length >= MAX_OBSERVED) {
      this.dropped++;
      return;
    }
    this.observed.push(args.map((a) => (typeof a === 'string' ? a : show(a))).join(' '));
  }
  nonStrict(reason: string): void {
    this.nonStrictReasons.push(reason);
    this.comment(`NON-STRICT: ${reason}`);
  }
  informational(reason: string): void {
    this.infoReasons.push(reason);
    this.comment(`INFORMATIONAL: ${reason}`);
  }
  result(text: string): void {
    this.okReason = text;
    this.comment(text);
  }
  unimplemented(reason: string): void {
    this.unimplementedReason ??= reason;
  }
  get failures(): number {
    return this.failed.length;
  }

  /** FAILED beats UNIMPLEMENTED beats NON-STRICT beats INFORMATIONAL beats OK. */
  verdict(): { verdict: Verdict; reason: string; observed: string[] } {
    const observed = this.dropped ? [...this.observed, `… ${this.dropped} more observations dropped`] : [...this.observed];
    if (this.failed.length) return { verdict: 'FAILED', reason: this.failed.join('; '), observed };
    if (this.unimplementedReason !== undefined) return { verdict: 'UNIMPLEMENTED', reason: this.unimplementedReason, observed };
    if (this.nonStrictReasons.length) return { verdict: 'NON-STRICT', reason: this.nonStrictReasons.join('; '), observed };
    if (this.infoReasons.length) return { verdict: 'INFORMATIONAL', reason: this.infoReasons.join('; '), observed };
    return { verdict: 'OK', reason: this.okReason, observed };
  }
}
