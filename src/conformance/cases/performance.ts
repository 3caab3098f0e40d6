/**
 * Category 9 (Autobahn 9.x): limits and performance. Large messages, large
 * fragmented messages, messages written in small chops, and round-trip
 * series. Each case reports its time (Autobahn reports these as OK with the
 * duration); a case needing a message or frame count above the target's
 * declared limits is not run.
 */
import { concat, fragmentMessage } from '../frames.js';
import type { CaseContext, CaseDef, CaseEnv, Category } from '../case-types.js';
import { BINARY, TEXT, payloadFor, typeName } from './common.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const sizeName = (n: number) => (n >= MiB ? `${n / MiB}M` : n >= KiB ? `${n / KiB}k` : `${n}`);

/** Deadline for moving `bytes` both ways on a slow machine: generous, but finite. */
const deadlineFor = (env: CaseEnv, bytes: number) => Math.max(env.timeoutMs * 10, 5000 + Math.ceil(bytes / MiB) * 3000);

function notRunReason(env: CaseEnv, size: number, frames = 1): string | false {
  if (size > env.maxMessageSize) return `a ${sizeName(size)} message exceeds the declared maxMessageSize (${env.maxMessageSize})`;
  if (env.maxFrames !== undefined && frames > env.maxFrames) return `${frames} frames per message exceed the declared maxFrames (${env.maxFrames})`;
  return false;
}

async function timedEcho(c: CaseContext, opcode: number, size: number, send: (data: Uint8Array) => Uint8Array[], chop?: number): Promise<void> {
  const s = await c.open();
  const data = payloadFor(opcode, size);
  const frames = send(data);
  const started = performance.now();
  if (chop) await s.dribble(concat(frames), chop);
  else await s.sendEach(frames.length > 64 ? [concat(frames)] : frames);
  await s.expectEcho(opcode, data, deadlineFor(c.env, size * 2));
  const ms = performance.now() - started;
  c.t.result(`echo of ${sizeName(size)} in ${ms.toFixed(1)} ms`);
  await s.closeNormally();
}

export const performanceCategory: Category = {
  id: '9',
  title: 'Limits/Performance (Autobahn 9.x)',
  cases(env) {
    const out: CaseDef[] = [];
    const add = (id: string, title: string, bytes: number, skip: string | false, run: (c: CaseContext) => Promise<void>) =>
      out.push({ id, title, skip, timeoutMs: deadlineFor(env, bytes * 2) + 2000, run });
    const sizes = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
    for (const [sub, opcode] of [
      [1, TEXT],
      [2, BINARY],
    ] as const) {
      sizes.forEach((n, i) =>
        add(`9.${sub}.${i + 1}`, `${typeName(opcode)} message of ${sizeName(n)} in one frame → echoed (time reported)`, n, notRunReason(env, n), (c) =>
          timedEcho(c, opcode, n, (d) => [fragmentMessage(opcode, d, [d.length])[0]!]),
        ),
      );
    }
    const fragmentSizes = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
    for (const [sub, opcode] of [
      [3, TEXT],
      [4, BINARY],
    ] as const) {
      fragmentSizes.forEach((f, i) => {
        const n = 4 * MiB;
        add(
          `9.${sub}.${i + 1}`,
          `${typeName(opcode)} message of 4M in fragments of ${sizeName(f)} → echoed (time reported)`,
          n,
          notRunReason(env, n, Math.ceil(n / f)),
          (c) => timedEcho(c, opcode, n, (d) => fragmentMessage(opcode, d, f)),
        );
      });
    }
    const chops = [64, 128, 256, 512, 1024, 2048];
    for (const [sub, opcode] of [
      [5, TEXT],
      [6, BINARY],
    ] as const) {
      chops.forEach((chop, i) =>
        add(`9.${sub}.${i + 1}`, `${typeName(opcode)} message of 1M written in chops of ${chop} octets → echoed (time reported)`, MiB, notRunReason(env, MiB), (c) =>
          timedEcho(c, opcode, MiB, (d) => fragmentMessage(opcode, d, [d.length]), chop),
        ),
      );
    }
    const series = [0, 16, 64, 256, 1024, 4096];
    for (const [sub, opcode] of [
      [7, TEXT],
      [8, BINARY],
    ] as const) {
      series.forEach((n, i) =>
        add(`9.${sub}.${i + 1}`, `1000 ${typeName(opcode)} messages of ${n} bytes, one at a time → all echoed (round-trip time reported)`, n * 1000, notRunReason(env, n), async (c) => {
          const s = await c.open();
          const data = payloadFor(opcode, n);
          const frame = fragmentMessage(opcode, data, [n])[0]!;
          const started = performance.now();
          for (let k = 0; k < 1000; k++) {
            await s.peer.write(frame);
            const m = await s.message();
            if (m.opcode !== opcode || m.data.length !== n) {
              c.t.fail(`echo #${k} differs: ${typeName(m.opcode)} of ${m.data.length} bytes`);
              return;
            }
          }
          const ms = performance.now() - started;
          c.t.result(`1000 round trips in ${ms.toFixed(1)} ms (${ms.toFixed(0)} µs each)`);
          await s.closeNormally();
        }),
      );
    }
    return out;
  },
};

