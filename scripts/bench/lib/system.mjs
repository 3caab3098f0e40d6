// Load from other processes on the machine, so that a noisy measurement can be
// seen (and retried): system-wide busy CPU time from /proc/stat minus what the
// server under test and the load generator used themselves.
import { readFileSync } from 'node:fs';

const TICK_US = 10000; // USER_HZ = 100 on Linux

/** Busy CPU time of the whole machine so far, in µs (null where /proc/stat is missing). */
export function machineBusyUs() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    void idle;
    void iowait;
    return (user + nice + system + irq + softirq + (steal || 0)) * TICK_US;
  } catch {
    return null;
  }
}

/** Other processes' CPU over a window, in cores (1 = one full core). */
export function backgroundCores(busyBeforeUs, busyAfterUs, ownUs, wallMs) {
  if (busyBeforeUs === null || busyAfterUs === null) return null;
  return Math.max(0, busyAfterUs - busyBeforeUs - ownUs) / (wallMs * 1000);
}
