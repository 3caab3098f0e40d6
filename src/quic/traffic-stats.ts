import type { NativeConnection } from './binding.js';

export interface PacketCounts {
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
}

/** Adds one connection's packet counters (quiche's stats(), RFC 9002 loss detection) to `totals`. */
export function addPackets(totals: PacketCounts, native: NativeConnection): void {
  const stats = native.stats();
  totals.packetsSent += stats.sent;
  totals.packetsReceived += stats.recv;
  totals.packetsLost += stats.lost;
}

/** The smoothed RTT of the connection's active path in seconds (quiche reports ms), if it has one. */
export function smoothedRtt(native: NativeConnection): number | undefined {
  for (const path of native.pathStats()) if (path.active) return path.rtt / 1000;
  return undefined;
}
