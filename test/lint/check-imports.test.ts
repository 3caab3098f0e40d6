// The import check that `npm run lint` runs: it passes on src/ and fails on
// each kind of violation it exists for.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { checkImports } from '../../scripts/lint/check-imports.mjs';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'trident-imports-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

t.test('src/ has its layers in order and no import cycle', async (t) => {
  const { files, problems } = checkImports('src');
  t.ok(files > 90, `read ${files} files`);
  t.same(problems, []);
});

t.test('an import up the layers is reported, type-only ones too', async (t) => {
  const root = tree({
    'session/websocket.ts': "import type { ClientOptions } from '../client/connect.js';\n",
    'client/connect.ts': 'export interface ClientOptions {}\n',
    'protocol/frame.ts': "import {\n  thing,\n} from '../handshake/request.js';\n",
    'handshake/request.ts': 'export const thing = 1;\n',
  });
  const { problems } = checkImports(root);
  t.same(problems.sort(), [
    'protocol/frame.ts imports handshake/request.ts: protocol may import only nothing',
    'session/websocket.ts imports client/connect.ts: session may import only protocol',
  ]);
});

t.test('a cycle between files of one layer is reported once, with every file in it', async (t) => {
  const root = tree({
    'quic/connection.ts': "import { Stream } from './stream.js';\nexport class Connection {}\n",
    'quic/stream.ts': "import type { Connection } from './connection.js';\nexport class Stream {}\n",
    'quic/types.ts': "export * from './stream.js';\n",
  });
  t.same(checkImports(root).problems, ['import cycle: quic/connection.ts <-> quic/stream.ts']);
});

t.test('a folder without a place in the layer table is reported', async (t) => {
  const root = tree({ 'metrics/counter.ts': "import { x } from '../protocol/x.js';\n", 'protocol/x.ts': 'export const x = 1;\n' });
  t.same(checkImports(root).problems, ['metrics/counter.ts: folder metrics has no place in LAYERS']);
});
