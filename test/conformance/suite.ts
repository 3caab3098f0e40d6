/**
 * tap glue over the product runner (src/conformance, `trident test`): runs the
 * suite against a target and turns every case into a tap test that fails when
 * the case's verdict is FAILED. The cases themselves live only in src/.
 *
 * knownDeviations (case id or id prefix → reason): such a case still runs in
 * full, but a FAILED verdict is marked TODO (visible as "not ok … # TODO",
 * not failing the run); a declared deviation that no longer shows up gets a
 * comment, so stale entries get noticed.
 *
 * mustBeOk (case ids or id prefixes): cases where NON-STRICT is not enough, the
 * verdict must be OK (e.g. 6.4: failing on invalid UTF-8 as soon as it arrives).
 */
import type { Test } from 'tap';
import { runSuite } from '../../src/conformance/suite.js';
import type { ConformanceTarget } from '../../src/conformance/target.js';
import type { CaseResult } from '../../src/conformance/report-types.js';

export * from '../../src/conformance/target.js';

export interface TapRunOptions {
  knownDeviations?: Record<string, string>;
  /** case patterns as for `trident test --cases` */
  select?: readonly string[];
  mustBeOk?: readonly string[];
}

export function deviationFor(deviations: Record<string, string> | undefined, id: string): string | undefined {
  for (const [k, v] of Object.entries(deviations ?? {})) {
    if (id === k || id.startsWith(k + '.')) return v;
  }
  return undefined;
}

/** Runs the suite against `target`; one tap test per case. Resolves with the results. */
export async function runConformance(t: Test, target: ConformanceTarget, o: TapRunOptions = {}): Promise<CaseResult[]> {
  const results = await runSuite(target, o.select ? { select: o.select } : {});
  await t.test(`conformance [${target.name}]`, async (tt) => {
    for (const r of results) {
      const dev = deviationFor(o.knownDeviations, r.id);
      const todo = dev ? `known deviation of ${target.name}: ${dev}` : undefined;
      tt.not(r.verdict, 'FAILED', `${r.id} ${r.title}: ${r.verdict} (${r.reason})`, {
        observed: r.observed,
        ...(todo ? { todo } : {}),
      });
      if (o.mustBeOk?.some((k) => r.id === k || r.id.startsWith(k + '.'))) tt.equal(r.verdict, 'OK', `${r.id} must be OK (${r.reason})`);
      if (todo && r.verdict !== 'FAILED') tt.comment(`declared deviation did not show up: ${r.id} passed (${todo})`);
    }
  });
  return results;
}
