/**
 * The assertion surface the cases use. It forwards to tap, and for a case
 * declared as a known deviation it marks every assertion TODO: the case still
 * runs in full and its failures stay visible ("not ok … # TODO"), but they do
 * not fail the run. (tap itself does not run a subtest that has the `todo`
 * option, which would hide the deviation instead of showing it.)
 */
import type { Test } from 'tap';

export interface Assert {
  ok(value: unknown, message?: string, extra?: Record<string, unknown>): boolean;
  notOk(value: unknown, message?: string, extra?: Record<string, unknown>): boolean;
  equal(found: unknown, wanted: unknown, message?: string, extra?: Record<string, unknown>): boolean;
  not(found: unknown, notWanted: unknown, message?: string, extra?: Record<string, unknown>): boolean;
  notMatch(found: string, pattern: RegExp, message?: string): boolean;
  pass(message?: string): boolean;
  fail(message?: string, extra?: Record<string, unknown>): boolean;
  comment(...args: unknown[]): void;
  /** number of failed assertions so far */
  readonly failures: number;
}

export function makeAssert(t: Test, todo?: string): Assert {
  let failures = 0;
  const x = (extra?: Record<string, unknown>) => (todo ? { ...(extra ?? {}), todo } : (extra ?? {}));
  // tap reports a failed TODO assertion as "ok", so count failures from the conditions themselves
  const track = (passed: boolean, r: boolean) => {
    if (!passed) failures++;
    return r && passed;
  };
  return {
    ok: (v, m, e) => track(!!v, t.ok(v, m ?? 'expect truthy value', x(e))),
    notOk: (v, m, e) => track(!v, t.notOk(v, m ?? 'expect falsey value', x(e))),
    equal: (f, w, m, e) => track(f === w, t.equal(f, w, m ?? 'should be equal', x(e))),
    not: (f, w, m, e) => track(f !== w, t.not(f, w, m ?? 'should not be equal', x(e))),
    notMatch: (f, p, m) => track(!p.test(f), t.notMatch(f, p, m ?? 'should not match pattern', x())),
    pass: (m) => t.pass(m ?? 'ok', x()),
    fail: (m, e) => track(false, t.fail(m ?? 'fail', x(e))),
    comment: (...a) => t.comment(...a),
    get failures() {
      return failures;
    },
  };
}

/**
 * Run a case body: a thrown error (timeout, unexpected frame, …) becomes a
 * failed assertion with its message (TODO for a known deviation). For a known
 * deviation that showed no failure, a comment says so, so that stale entries
 * in knownDeviations get noticed.
 */
export async function runBody(a: Assert, todo: string | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const err = e as Error;
    a.fail(`${err.name}: ${err.message}`);
  }
  if (todo && a.failures === 0) a.comment(`declared deviation did not show up: this case passed (${todo})`);
}
