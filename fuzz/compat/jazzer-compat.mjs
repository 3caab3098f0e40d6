// Makes @jazzer.js/fuzzer's prebuilt native addon load on older Linux.
//
// The addon shipped in the npm package (prebuilds/fuzzer-linux-x64.node) is
// linked against glibc 2.38 and libstdc++ 13, but uses only three symbols of
// those versions (__isoc23_strtol, __isoc23_strtoul,
// std::ios_base_library_init). On Debian 12 (glibc 2.36, GCC 12) the dynamic
// loader refuses it ("version `GLIBC_2.38' not found"). When that happens we
// 1. mark the two version requirements weak in the addon's .gnu.version_r
//    section (VER_FLG_WEAK: the loader then accepts a library without them),
//    keeping the original file beside it as .orig, and
// 2. build glibc-shim.cc, which defines the three symbols, and preload it.
// Nothing changes where the addon loads as shipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const MISSING_VERSIONS = ['GLIBC_2.38', 'GLIBCXX_3.4.32'];
const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 0x2;

/**
 * Loads the addon in a child process with `env`; returns null on success, else
 * the loader's error. LD_BIND_NOW resolves every symbol at load time, so a
 * missing one shows here and not in the middle of a fuzzing run.
 */
function loadError(env) {
  const probe = spawnSync(process.execPath, ['-e', "require('@jazzer.js/fuzzer')"], { env: { ...env, LD_BIND_NOW: '1' }, encoding: 'utf8', cwd: here });
  return probe.status === 0 ? null : (probe.stderr || `exit ${probe.status}`);
}

/** Sets VER_FLG_WEAK on the ELF64 (little-endian) version needs named in `names`; returns how many it changed. */
export function weakenVersionNeeds(elf, names) {
  const sectionHeaders = Number(elf.readBigUInt64LE(0x28));
  const entrySize = elf.readUInt16LE(0x3a);
  const count = elf.readUInt16LE(0x3c);
  const section = (i) => {
    const at = sectionHeaders + i * entrySize;
    return { type: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 0x18)), link: elf.readUInt32LE(at + 0x28), info: elf.readUInt32LE(at + 0x2c) };
  };
  let changed = 0;
  for (let i = 0; i < count; i++) {
    const verneed = section(i);
    if (verneed.type !== SHT_GNU_VERNEED) continue;
    const strings = section(verneed.link).offset;
    const nameAt = (offset) => elf.toString('latin1', strings + offset, elf.indexOf(0, strings + offset));
    let need = verneed.offset;
    for (let n = 0; n < verneed.info; n++) {
      let aux = need + elf.readUInt32LE(need + 8);
      for (let a = 0; a < elf.readUInt16LE(need + 2); a++) {
        const flags = elf.readUInt16LE(aux + 4);
        if ((flags & VER_FLG_WEAK) === 0 && names.includes(nameAt(elf.readUInt32LE(aux + 8)))) {
          elf.writeUInt16LE(flags | VER_FLG_WEAK, aux + 4);
          changed++;
        }
        aux += elf.readUInt32LE(aux + 12);
      }
      need += elf.readUInt32LE(need + 12);
    }
  }
  return changed;
}

function addonPath() {
  const root = path.dirname(require.resolve('@jazzer.js/fuzzer/package.json'));
  return path.join(root, 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
}

function buildShim() {
  const source = path.join(here, 'glibc-shim.cc');
  const output = path.join(here, '..', '.build', 'glibc-shim.so');
  if (!existsSync(output) || statSync(output).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(path.dirname(output), { recursive: true });
    execFileSync('g++', ['-shared', '-fPIC', '-O2', '-o', output, source], { stdio: 'inherit' });
  }
  return output;
}

/**
 * The environment to run jazzer with: `process.env` when the addon loads as
 * shipped, else with the shim preloaded (after patching the addon once).
 * Throws with the loader's message when neither works.
 */
export function jazzerEnv() {
  const first = loadError(process.env);
  if (first === null) return process.env;
  if (!['__isoc23_', 'ios_base_library_init', ...MISSING_VERSIONS].some((v) => first.includes(v))) throw new Error(`@jazzer.js/fuzzer does not load:\n${first}`);
  const addon = addonPath();
  const elf = readFileSync(addon);
  if (weakenVersionNeeds(elf, MISSING_VERSIONS) > 0) {
    if (!existsSync(`${addon}.orig`)) copyFileSync(addon, `${addon}.orig`);
    writeFileSync(addon, elf);
  }
  const env = { ...process.env, LD_PRELOAD: [buildShim(), process.env.LD_PRELOAD].filter(Boolean).join(':') };
  const second = loadError(env);
  if (second !== null) throw new Error(`@jazzer.js/fuzzer does not load even with the glibc shim:\n${second}`);
  return env;
}
