import { writeFile } from 'node:fs/promises';
import type { ConformanceReport } from '../report-types.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';

export { renderHtml, renderJson, renderJunit };

export interface ReportFiles {
  json?: string | undefined;
  html?: string | undefined;
  junit?: string | undefined;
}

/** Writes each requested report file (shared by server and client mode). */
export async function writeReports(report: ConformanceReport, files: ReportFiles): Promise<void> {
  const jobs: Array<Promise<void>> = [];
  if (files.json) jobs.push(writeFile(files.json, renderJson(report)));
  if (files.html) jobs.push(writeFile(files.html, renderHtml(report)));
  if (files.junit) jobs.push(writeFile(files.junit, renderJunit(report)));
  await Promise.all(jobs);
}
