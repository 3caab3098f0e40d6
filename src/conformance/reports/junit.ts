import type { CaseResult, ConformanceReport } from '../report-types.js';
import { compareCaseIds } from './json.js';

const escapeXml = (s: string): string =>
  // XML 1.0 forbids most C0 controls even escaped: drop them (observed bytes are hex anyway).
  s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/**
 * JUnit XML, the format CI systems read: one <testsuite> per transport, one
 * <testcase> per case. FAILED is a <failure>; UNIMPLEMENTED is <skipped>
 * (the server lacks an optional feature); OK, NON-STRICT and INFORMATIONAL pass,
 * with the verdict and reason in <system-out>.
 */
export function renderJunit(report: ConformanceReport): string {
  const byTransport = new Map<string, CaseResult[]>();
  for (const r of report.results) {
    const list = byTransport.get(r.transport) ?? [];
    list.push(r);
    byTransport.set(r.transport, list);
  }
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const count = (list: readonly CaseResult[], v: CaseResult['verdict']) => list.filter((r) => r.verdict === v).length;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = report.results;
  lines.push(
    `<testsuites name="${escapeXml(`${report.tool.name} ${report.subject}`)}" tests="${all.length}" failures="${count(all, 'FAILED')}" skipped="${count(all, 'UNIMPLEMENTED')}" time="${seconds(report.durationMs)}">`,
  );
  for (const [transport, list] of byTransport) {
    list.sort((a, b) => compareCaseIds(a.id, b.id));
    const time = list.reduce((s, r) => s + r.durationMs, 0);
    lines.push(
      `  <testsuite name="${escapeXml(transport)}" tests="${list.length}" failures="${count(list, 'FAILED')}" errors="0" skipped="${count(list, 'UNIMPLEMENTED')}" time="${seconds(time)}">`,
    );
    for (const r of list) {
      const name = escapeXml(`${r.id} ${r.title}`);
      lines.push(`    <testcase classname="${escapeXml(`${transport}.${r.category}`)}" name="${name}" time="${seconds(r.durationMs)}">`);
      const detail = escapeXml([`${r.verdict}: ${r.reason}`, ...r.observed].join('\n'));
      if (r.verdict === 'FAILED') lines.push(`      <failure message="${escapeXml(r.reason)}" type="FAILED">${detail}</failure>`);
      else if (r.verdict === 'UNIMPLEMENTED') lines.push(`      <skipped message="${escapeXml(r.reason)}"/>`);
      lines.push(`      <system-out>${detail}</system-out>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}
