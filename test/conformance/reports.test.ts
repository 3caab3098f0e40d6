// The three report formats of `trident test`, from a hand-made report.
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReports } from '../../src/conformance/reports/index.js';
import type { CaseResult, ConformanceReport } from '../../src/conformance/report-types.js';

const result = (id: string, transport: CaseResult['transport'], verdict: CaseResult['verdict']): CaseResult => ({
  id,
  category: id.split('.')[0]!,
  title: `case ${id} <&>`,
  transport,
  verdict,
  reason: verdict === 'FAILED' ? 'expected close 1002, got "1000"' : 'as expected',
  observed: ['close frame (code 1000) FIN\u0001'],
  durationMs: 3,
});

const report: ConformanceReport = {
  schema: 1,
  tool: { name: 'trident test', version: '0.0.0' },
  mode: 'server',
  subject: 'ws://127.0.0.1:1/echo',
  startedAt: new Date(0).toISOString(),
  durationMs: 42,
  results: [
    result('1.1.10', 'http/1.1', 'OK'),
    result('1.1.9', 'http/1.1', 'FAILED'),
    result('1.1.9', 'h2', 'NON-STRICT'),
    result('12.1.1', 'h2', 'UNIMPLEMENTED'),
    result('7.13.1', 'h3', 'INFORMATIONAL'),
  ],
};

const dir = mkdtempSync(join(tmpdir(), 'trident-reports-'));
const files = { json: join(dir, 'r.json'), html: join(dir, 'r.html'), junit: join(dir, 'r.xml') };
await writeReports(report, files);

t.test('JSON: the report, results ordered by case id numerically then transport', async (t) => {
  const parsed = JSON.parse(readFileSync(files.json, 'utf8')) as ConformanceReport;
  t.equal(parsed.schema, 1);
  t.same(
    parsed.results.map((r) => `${r.id}/${r.transport}`),
    ['1.1.9/h2', '1.1.9/http/1.1', '1.1.10/http/1.1', '7.13.1/h3', '12.1.1/h2'],
  );
  t.same(parsed.results[1], report.results[1]);
});

t.test('JUnit: counts per suite, a failure for FAILED, skipped for UNIMPLEMENTED, escaped text', async (t) => {
  const xml = readFileSync(files.junit, 'utf8');
  t.match(xml, /<testsuites [^>]*tests="5" failures="1" skipped="1"/);
  t.match(xml, /<testsuite name="http\/1\.1" tests="2" failures="1"/);
  t.match(xml, /<testsuite name="h2" tests="2" failures="0" errors="0" skipped="1"/);
  t.equal(xml.match(/<testcase /g)?.length, 5);
  t.equal(xml.match(/<failure /g)?.length, 1);
  t.notMatch(xml, /<&>|\u0001/, 'markup and control characters escaped or dropped');
});

t.test('HTML: self-contained, one row per case, one column per transport, details per cell', async (t) => {
  const html = readFileSync(files.html, 'utf8');
  for (const id of ['1.1.9', '1.1.10', '12.1.1', '7.13.1']) t.match(html, `id="case-${id}"`);
  t.equal(html.match(/<details>/g)?.length, 5, 'one <details> per result');
  t.match(html, '<th>http/1.1</th><th>h2</th><th>h3</th>');
  t.notMatch(html, /<script|<link|src="http/, 'no external resources or scripts');
  t.match(html, 'case 1.1.9 &lt;&amp;&gt;');
});
