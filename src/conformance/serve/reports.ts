/**
 * Per-agent reports of client mode, through the writers server mode uses:
 * `<outdir>/<agent>.json` (the stable shape of report-types.ts), `.html` (the
 * self-contained matrix of cases × transports) and `.xml` (JUnit).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConformanceReport } from '../report-types.js';
import { writeReports } from '../reports/index.js';

/** Autobahn's rule for file names from agent names: lower-case letters and digits, the rest as '_'. */
export function agentFileName(agent: string): string {
  const cleaned = agent.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return cleaned === '' ? 'agent' : cleaned;
}

/** Writes the three files of each report; resolves with the JSON files' paths. */
export async function writeAgentReports(outdir: string, reports: readonly ConformanceReport[]): Promise<string[]> {
  await mkdir(outdir, { recursive: true });
  const written: string[] = [];
  for (const report of reports) {
    const base = join(outdir, agentFileName(report.subject));
    await writeReports(report, { json: `${base}.json`, html: `${base}.html`, junit: `${base}.xml` });
    written.push(`${base}.json`);
  }
  return written;
}
