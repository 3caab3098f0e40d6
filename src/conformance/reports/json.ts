import type { ConformanceReport } from '../report-types.js';

/**
 * The JSON report: the ConformanceReport itself, keys in the order of
 * report-types.ts, results sorted by case id then transport, so two runs of
 * the same suite diff cleanly (schema documented in docs/conformance.md).
 */
export function renderJson(report: ConformanceReport): string {
  const results = [...report.results].sort((a, b) => compareCaseIds(a.id, b.id) || a.transport.localeCompare(b.transport));
  const ordered: ConformanceReport = {
    schema: report.schema,
    tool: { name: report.tool.name, version: report.tool.version },
    mode: report.mode,
    subject: report.subject,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    results: results.map((r) => ({
      id: r.id,
      category: r.category,
      title: r.title,
      transport: r.transport,
      verdict: r.verdict,
      reason: r.reason,
      observed: [...r.observed],
      durationMs: r.durationMs,
    })),
  };
  return JSON.stringify(ordered, null, 2) + '\n';
}

/** "1.2.10" after "1.2.9": compare the dot-separated parts numerically. */
export function compareCaseIds(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const d = Number(x) - Number(y);
    if (Number.isFinite(d) && d !== 0) return d;
    if (!Number.isFinite(d) && x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
