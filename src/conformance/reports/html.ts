import type { CaseResult, ConformanceReport, Verdict } from '../report-types.js';
import { compareCaseIds } from './json.js';

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Autobahn's report colours, so people who know its reports read ours at a glance. */
const COLOURS: Record<Verdict, string> = {
  OK: '#0a0',
  'NON-STRICT': '#9c0',
  INFORMATIONAL: '#69c',
  UNIMPLEMENTED: '#aaa',
  FAILED: '#d00',
};

const VERDICTS = Object.keys(COLOURS) as Verdict[];

function cell(r: CaseResult | undefined): string {
  if (!r) return '<td class="none">–</td>';
  const observed = r.observed.length ? `<pre>${escapeHtml(r.observed.join('\n'))}</pre>` : '';
  return (
    `<td class="v-${r.verdict}"><details><summary>${r.verdict} <small>${r.durationMs} ms</small></summary>` +
    `<p>${escapeHtml(r.reason)}</p>${observed}</details></td>`
  );
}

/**
 * One self-contained HTML file (inline CSS, no scripts, no external links):
 * a matrix of cases × transports, each cell coloured by verdict and opening
 * its reason and observed bytes/events in a <details> element.
 */
export function renderHtml(report: ConformanceReport): string {
  const transports = [...new Set(report.results.map((r) => r.transport))];
  const cases = new Map<string, { title: string; category: string; by: Map<string, CaseResult> }>();
  for (const r of report.results) {
    const row = cases.get(r.id) ?? { title: r.title, category: r.category, by: new Map<string, CaseResult>() };
    row.by.set(r.transport, r);
    cases.set(r.id, row);
  }
  const ids = [...cases.keys()].sort(compareCaseIds);
  const totals = transports.map((t) => {
    const counts = VERDICTS.map((v) => `${v} ${report.results.filter((r) => r.transport === t && r.verdict === v).length}`);
    return `<li><b>${escapeHtml(t)}</b>: ${counts.join(', ')}</li>`;
  });
  const rows: string[] = [];
  let category = '';
  for (const id of ids) {
    const row = cases.get(id)!;
    if (row.category !== category) {
      category = row.category;
      rows.push(`<tr class="cat"><th colspan="${transports.length + 2}">${escapeHtml(category)}</th></tr>`);
    }
    rows.push(
      `<tr id="case-${escapeHtml(id)}"><th>${escapeHtml(id)}</th><td class="title">${escapeHtml(row.title)}</td>${transports
        .map((t) => cell(row.by.get(t)))
        .join('')}</tr>`,
    );
  }
  const style = [
    'body{font:14px system-ui,sans-serif;margin:1em}',
    'table{border-collapse:collapse}',
    'th,td{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}',
    'tr.cat th{background:#eee}',
    'td.title{max-width:40em}',
    'pre{white-space:pre-wrap;max-width:50em;font-size:12px}',
    'summary{cursor:pointer;color:#fff;font-weight:bold}',
    'td details p{color:#fff}',
    ...VERDICTS.map((v) => `td.v-${v}{background:${COLOURS[v]}}`),
    'td.v-FAILED pre,td.v-OK pre,td.v-NON-STRICT pre,td.v-INFORMATIONAL pre,td.v-UNIMPLEMENTED pre{background:#fff;color:#000}',
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.tool.name)}: ${escapeHtml(report.subject)}</title>
<style>
${style}
</style></head><body>
<h1>${escapeHtml(report.tool.name)} ${escapeHtml(report.tool.version)} (${report.mode} mode)</h1>
<p>Subject: <code>${escapeHtml(report.subject)}</code> · started ${escapeHtml(report.startedAt)} · ${report.durationMs} ms</p>
<ul>${totals.join('')}</ul>
<table><thead><tr><th>case</th><th>description</th>${transports.map((t) => `<th>${escapeHtml(t)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}
