/** Development certificates on disk, for peers that read files (python, haproxy, nghttpx); made once per test file. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../binary.js';

export interface CertFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Certificate then key in one PEM file (haproxy's `crt`). */
  combinedFile: string;
  ca: Buffer;
  tls: { cert: Buffer; key: Buffer };
}

let made: CertFiles | undefined;

export function certFiles(): CertFiles {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'trident-interop-'));
  execFileSync('sh', [join(ROOT, 'scripts', 'gen-certs.sh'), dir]);
  const cert = readFileSync(join(dir, 'server.crt'));
  const key = readFileSync(join(dir, 'server.key'));
  const combinedFile = join(dir, 'combined.pem');
  writeFileSync(combinedFile, Buffer.concat([cert, key]));
  made = {
    dir,
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    combinedFile,
    ca: readFileSync(join(dir, 'ca.crt')),
    tls: { cert, key },
  };
  return made;
}
