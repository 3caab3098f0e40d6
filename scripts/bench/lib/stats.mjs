// Medians, spreads and the run-by-run ratios.

export function summarize(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}

export const METRICS = {
  echo: ['msgsPerSec', 'mbPerSec', 'cpuUsPerMsg', 'msgsPerCpuSec', 'serverCpuPct', 'clientCpuPct', 'p50Ms', 'p99Ms'],
  handshake: ['perSec', 'cpuUsPerHandshake', 'serverCpuPct', 'clientCpuPct'],
  memory: ['bytesPerConn', 'heapBytesPerConn', 'externalBytesPerConn', 'conns'],
  receiver: ['msPerPayload', 'nsPerByte'],
  soak: ['baselineRss', 'peakRss', 'endRss', 'rssDelta', 'baselineFds', 'peakFds', 'endFds', 'fdDelta', 'opened'],
};

/** Per row: every metric summarized over the runs. */
export function summarizeRow(kind, runs) {
  const out = {};
  for (const metric of METRICS[kind] ?? []) out[metric] = summarize(runs.map((run) => run?.[metric]));
  return out;
}

/** Ratios a/b computed run by run (same run index = measured in the same round), then summarized. */
export function pairRatio(aRuns, bRuns, metric) {
  const ratios = [];
  const n = Math.min(aRuns?.length ?? 0, bRuns?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const a = aRuns[i]?.[metric];
    const b = bRuns[i]?.[metric];
    if (typeof a === 'number' && typeof b === 'number' && b !== 0 && Number.isFinite(a) && Number.isFinite(b)) ratios.push(a / b);
  }
  return { ...summarize(ratios), perRun: ratios };
}
