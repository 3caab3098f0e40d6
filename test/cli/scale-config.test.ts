/**
 * The scale flags: --redis (TRIDENT_REDIS_URL), --redis-optional and
 * --workers, and which Node versions get per-worker UDP sockets.
 */
import { availableParallelism } from 'node:os';
import t from 'tap';
import { parseServeArgs, type ServeConfig } from '../../src/cli/config.js';
import { udpReusePortSupported } from '../../src/cli/workers.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): ServeConfig => {
  const config = parseServeArgs(['--port', 'off', ...argv], env);
  if (config === 'help') throw new Error('unexpected help');
  return config;
};

t.test('--redis and TRIDENT_REDIS_URL; required unless --redis-optional', async (t) => {
  t.equal(parse([]).redis, null, 'no Redis by default');
  t.same(parse(['--redis', 'redis://r:6379']).redis, { url: 'redis://r:6379', required: true });
  t.same(parse([], { TRIDENT_REDIS_URL: 'rediss://r:6380' }).redis, { url: 'rediss://r:6380', required: true });
  t.same(parse(['--redis', 'redis://r:6379', '--redis-optional']).redis, { url: 'redis://r:6379', required: false });
  t.same(parse([], { TRIDENT_REDIS_URL: 'redis://r', TRIDENT_REDIS_OPTIONAL: '1' }).redis, { url: 'redis://r', required: false });
  t.throws(() => parse(['--redis', 'r:6379']), /--redis must be a redis:\/\/ or rediss:\/\/ URL, got "r:6379"/);
  t.throws(() => parse(['--redis-optional']), /--redis-optional needs --redis/);
});

t.test('--workers N|auto', async (t) => {
  t.equal(parse([]).workers, 1, 'one process by default');
  t.equal(parse(['--workers', '3']).workers, 3);
  t.equal(parse([], { TRIDENT_WORKERS: 'auto' }).workers, availableParallelism(), 'auto: one per core');
  t.throws(() => parse(['--workers', '0']), /--workers must be "auto" or at least 1/);
  t.throws(() => parse(['--workers', 'many']), /--workers must be a non-negative integer/);
});

t.test('dgram reusePort: Node 22.12+, 23.1+ and later majors', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['23.0.0', false],
    ['23.1.0', true],
    ['24.0.0', true],
    ['26.1.0', true],
  ];
  for (const [version, expected] of cases) t.equal(udpReusePortSupported(version), expected, version);
});
