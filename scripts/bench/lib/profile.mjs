// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Returns { totalMs, activeMs, top: [{ name, url, line, selfMs, selfPct, activePct }] }.
 * activePct excludes (idle), so it is the share of the time the server was busy.
 */
export function summarizeProfile(file, { top = 25, root = process.cwd() } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const byFunction = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = nodes.get(id).callFrame;
    total += us;
    if (frame.functionName === '(idle)') idle += us;
    const url = frame.url ? path.relative(root, frame.url.replace(/^file:\/\//, '')) : '';
    const key = `${frame.functionName || '(anonymous)'}|${url}|${frame.lineNumber}`;
    const entry = byFunction.get(key) ?? { name: frame.functionName || '(anonymous)', url, line: frame.lineNumber + 1, selfUs: 0, lines: new Map() };
    entry.selfUs += us;
    // Source lines inside the function (inlined callees count on the line that called them).
    for (const tick of nodes.get(id).positionTicks ?? []) entry.lines.set(tick.line, (entry.lines.get(tick.line) ?? 0) + tick.ticks);
    byFunction.set(key, entry);
  }
  const active = total - idle;
  const entries = [...byFunction.values()].sort((a, b) => b.selfUs - a.selfUs);
  return {
    file,
    totalMs: total / 1000,
    activeMs: active / 1000,
    top: entries.slice(0, top).map((e) => ({
      name: e.name,
      url: e.url,
      line: e.line,
      selfMs: e.selfUs / 1000,
      selfPct: (100 * e.selfUs) / Math.max(1, total),
      activePct: e.name === '(idle)' ? null : (100 * e.selfUs) / Math.max(1, active),
      hotLines: hotLines(e.lines),
    })),
  };
}

function hotLines(lines) {
  const total = [...lines.values()].reduce((a, b) => a + b, 0);
  if (total < 20) return [];
  return [...lines.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([line, ticks]) => ({ line, pct: (100 * ticks) / total }));
}

export function formatProfile(summary) {
  const lines = [
    `profile ${summary.file}: ${summary.totalMs.toFixed(0)} ms sampled, ${summary.activeMs.toFixed(0)} ms busy (not idle)`,
    '  self%busy  self ms  function (file:line)',
  ];
  for (const e of summary.top) {
    const pct = e.activePct === null ? '   (idle)' : `${e.activePct.toFixed(1).padStart(8)}%`;
    const hot = e.url.startsWith('dist/') && e.hotLines.length > 0 ? `  [lines ${e.hotLines.map((h) => `${h.line}: ${h.pct.toFixed(0)}%`).join(', ')}]` : '';
    lines.push(`  ${pct} ${e.selfMs.toFixed(0).padStart(8)}  ${e.name}${e.url ? ` (${e.url}:${e.line})` : ''}${hot}`);
  }
  return lines.join('\n');
}
