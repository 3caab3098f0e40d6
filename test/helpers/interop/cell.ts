/**
 * One cell of the interop matrix (docs/interop.md): who the independent peer
 * is, which side it plays, over what, with which compression. Its tap subtest
 * name is `cellName(cell)`, which scripts/interop-report.mjs parses back:
 *
 *   peer=<name> version=<v> direction=<client->trident|trident->server> transport=<h1|h2|h3> deflate=<on|off|params> [variant=<detail>] [deviation=<rfc-section>]
 *
 * Values contain no spaces (a value runs to the next space; split a field at
 * its first "="). `variant` says what sets a cell apart from its siblings
 * (ws/wss, tls/h2c hop, deflate parameters); `deviation` marks a cell that
 * shows something the PEER gets wrong and checks trident's answer to it:
 * reported apart, never in the pass count.
 */
import { execFileSync } from 'node:child_process';

export type Direction = 'client->trident' | 'trident->server';

export interface Cell {
  peer: string;
  /** The Debian package whose version names the peer. */
  debianPackage: string;
  direction: Direction;
  transport: 'h1' | 'h2' | 'h3';
  deflate: 'on' | 'off' | 'params';
  variant?: string;
  /** The RFC section the peer deviates from, e.g. RFC7692-7.1.2.1. */
  deviation?: string;
}

const versions = new Map<string, string | null>();

/** The installed version of a Debian package, or null when it is not installed. */
export function debianVersion(pkg: string): string | null {
  if (!versions.has(pkg)) {
    let version: string | null = null;
    try {
      const out = execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Status} ${Version}', pkg], { encoding: 'utf8' }).trim();
      const [status, value] = out.split(' ');
      if (status === 'installed' && value) version = value;
    } catch {
      version = null;
    }
    versions.set(pkg, version);
  }
  return versions.get(pkg) ?? null;
}

export function cellName(cell: Cell): string {
  const fields = [
    `peer=${cell.peer}`,
    `version=${debianVersion(cell.debianPackage) ?? 'missing'}`,
    `direction=${cell.direction}`,
    `transport=${cell.transport}`,
    `deflate=${cell.deflate}`,
  ];
  if (cell.variant) fields.push(`variant=${cell.variant}`);
  if (cell.deviation) fields.push(`deviation=${cell.deviation}`);
  for (const field of fields) if (/\s/.test(field)) throw new Error(`a cell field has a space: "${field}"`);
  return fields.join(' ');
}
