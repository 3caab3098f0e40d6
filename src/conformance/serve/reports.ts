/** Per-agent reports of client mode: `<outdir>/<agent>.json`, the stable shape of report-types.ts. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConformanceReport } from '../report-types.js';

/** Autobahn's rule for file names from agent names: lower-case letters and digits, the rest as '_'. */
export function agentFileName(agent: string): string {
  const cleaned = agent.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return cleaned === '' ? 'agent' : cleaned;
}

export async function writeAgentReports(outdir: string, reports: readonly ConformanceReport[]): Promise<string[]> {
  await mkdir(outdir, { recursive: true });
  const written: string[] = [];
  for (const report of reports) {
    const file = join(outdir, `${agentFileName(report.subject)}.json`);
    await writeFile(file, JSON.stringify(report, null, 2) + '\n');
    written.push(file);
  }
  return written;
}
