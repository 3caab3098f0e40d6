// The CommonJS entry of the package, for `require('trident-ws')`: Node 20
// cannot require() an ES module, and the package is ESM. One source of truth:
// this bundles tsc's own ESM output (dist/index.js and what it imports) into
// dist/cjs/index.js; the runtime dependencies stay require()d from
// node_modules. The declarations are copied beside it, under a package.json
// that says "commonjs", so TypeScript reads them as the CommonJS entry's types.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const out = 'dist/cjs';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['dist/index.js'],
  outfile: `${out}/index.js`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // import.meta.url only anchors createRequire() (bufferutil, the quiche binding): the bundle's own URL does that.
  define: { 'import.meta.url': '__tridentModuleUrl' },
  banner: { js: "const __tridentModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // tsc's maps are followed, so the bundle's map points at src/*.ts, which the package ships.
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
writeFileSync(`${out}/package.json`, JSON.stringify({ type: 'commonjs' }) + '\n');
for (const file of readdirSync('dist', { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.d.ts') || file.startsWith('cjs/')) continue;
  mkdirSync(dirname(join(out, file)), { recursive: true });
  copyFileSync(join('dist', file), join(out, file));
}
