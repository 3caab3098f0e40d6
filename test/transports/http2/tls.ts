import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Fresh development certificates for a test file. */
export function makeTls(): { tls: { cert: Buffer; key: Buffer }; ca: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'trident-h2-'));
  execFileSync('sh', ['scripts/gen-certs.sh', dir]);
  return {
    tls: { cert: readFileSync(join(dir, 'server.crt')), key: readFileSync(join(dir, 'server.key')) },
    ca: readFileSync(join(dir, 'ca.crt')),
  };
}
