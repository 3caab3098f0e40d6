// Runs the coverage-guided fuzz targets (fuzz/<name>.fuzz.js) with jazzer.js
// against the compiled dist/ (run `npm run build` first).
//
//   node fuzz/run.mjs [seconds] [target ...]     (npm run fuzz -- 60 receiver)
//
// Seconds per target: the argument, else FUZZ_SECONDS, else 30. Each target
// starts from its seed corpus fuzz/corpus/<name>/ (read only); inputs the
// fuzzer finds interesting go to fuzz/.out/corpus/<name>/ and crashing inputs
// to fuzz/.out/crash-<name>-*. Prints one line per target and ends with
// "N passed, M failed"; exits non-zero when a target found something.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jazzerEnv } from './compat/jazzer-compat.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const cli = path.join(root, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js');

/** Targets whose fuzz function returns a promise run in jazzer's async mode; the others in its faster sync mode. */
const ASYNC_TARGETS = new Set(['deflate', 'http1-handshake']);
/**
 * Longest input: room for 16-bit frame lengths, fragmented messages and large
 * field sections. Huffman strings are short in practice, and its bit-by-bit
 * loops run ~20 times slower instrumented, so it gets more, shorter inputs.
 */
const MAX_LEN = { huffman: 512 };
const DEFAULT_MAX_LEN = 4096;

const args = process.argv.slice(2);
const seconds = Number(/^\d+$/.test(args[0] ?? '') ? args.shift() : (process.env.FUZZ_SECONDS ?? 30));
const all = readdirSync(here)
  .filter((file) => file.endsWith('.fuzz.js'))
  .map((file) => file.slice(0, -'.fuzz.js'.length))
  .sort();
const targets = args.length > 0 ? args : all;
for (const name of targets) {
  if (!all.includes(name)) {
    console.error(`fuzz: no target "${name}" (have: ${all.join(', ')})`);
    process.exit(2);
  }
}
if (!existsSync(path.join(root, 'dist', 'index.js'))) {
  console.error('fuzz: dist/ is missing; run `npm run build` first');
  process.exit(2);
}

/** @returns {Promise<{ passed: boolean, summary: string }>} */
function fuzzOne(name, env) {
  const work = path.join(here, '.out', 'corpus', name);
  mkdirSync(work, { recursive: true });
  const jazzerArgs = [
    cli,
    path.join(here, `${name}.fuzz.js`),
    work,
    ...[path.join(here, 'corpus', name)].filter((seeds) => existsSync(seeds)),
    ...(ASYNC_TARGETS.has(name) ? [] : ['--sync']),
    // Coverage feedback from our code only (the default also instruments the fuzz target itself).
    '--includes',
    `${path.sep}dist${path.sep}`,
    '--',
    `-max_total_time=${seconds}`,
    `-artifact_prefix=${path.join(here, '.out', `crash-${name}-`)}`,
    `-max_len=${MAX_LEN[name] ?? DEFAULT_MAX_LEN}`,
    // For the summary line: stat::number_of_executed_units.
    '-print_final_stats=1',
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, jazzerArgs, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk) => {
      tail = (tail + chunk.toString()).slice(-20000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code, signal) => {
      const runs = /stat::number_of_executed_units:\s*(\d+)/.exec(tail)?.[1] ?? '?';
      const coverage = [...tail.matchAll(/cov: (\d+)/g)].at(-1)?.[1] ?? '?';
      if (code === 0) {
        resolve({ passed: true, summary: `${runs} inputs, coverage ${coverage}` });
      } else {
        process.stdout.write(tail);
        resolve({ passed: false, summary: `exit ${code ?? signal} after ${runs} inputs (crash files in fuzz/.out/)` });
      }
    });
  });
}

let env;
try {
  env = jazzerEnv();
} catch (error) {
  console.log(`fuzz: ${error.message}`);
  console.log(`0 passed, ${targets.length} failed`);
  process.exit(1);
}
let passed = 0;
let failed = 0;
for (const name of targets) {
  console.log(`fuzz: ${name} for ${seconds} s ...`);
  const result = await fuzzOne(name, env);
  console.log(`fuzz: ${name}: ${result.passed ? 'passed' : 'FAILED'} (${result.summary})`);
  if (result.passed) passed++;
  else failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
