/**
 * Isolation: sessions never see each other's session-scoped entries or metrics and an ended session's entries are
 * gone (memory, disk, Redis strict and L1); caches side by side never touch each other's keys (Redis prefixes
 * `app:` and `app:tenant2:` on one server, two DiskBackend files, two MemoryBackends); what DiskBackend creates on
 * disk is mode 0600 even under umask 0. See isolation/sessions.ts, isolation/prefixes.ts, isolation/modes.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentCacheTypeError } from '../src/index.js';
import { dropPrefix, probeRedis, REDIS_URL } from '../test/backends/fixtures/redis.js';
import type { BackendKind } from './isolation/backends.js';
import { fileModes } from './isolation/modes.js';
import { diskFiles, memoryBackends, type PrefixCounts, redisPrefixes } from './isolation/prefixes.js';
import { type SessionCounts, sessionIsolation } from './isolation/sessions.js';
import { type Scenario, type ScenarioSize, table } from './scenario.js';

const SIZES: Record<ScenarioSize, { sessions: number; calls: number; items: number }> = {
  ci: { sessions: 20, calls: 60, items: 8 },
  full: { sessions: 200, calls: 500, items: 25 },
};

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;

/** Whether RedisBackend refuses a prefix holding `{` (what keeps nested prefixes apart). */
async function braceRefused(): Promise<boolean> {
  const { RedisBackend } = await import('../src/backends/redis/index.js');
  try {
    const backend = new RedisBackend({ url: REDIS_URL, prefix: 'app:{x}:' });
    await backend.close();
    return false;
  } catch (error) {
    return error instanceof AgentCacheTypeError;
  }
}

const scenario: Scenario = {
  id: 'isolation',
  title: 'Isolation: sessions, prefixes (nested ones too) and file modes',
  async run(size) {
    const s = SIZES[size];
    const redis = await probeRedis();
    const root = `agent-cache-stress-isolation-${process.pid}-${randomBytes(4).toString('hex')}:`;
    const dir = mkdtempSync(join(tmpdir(), 'agent-cache-stress-isolation-'));
    const kinds: BackendKind[] = redis ? ['memory', 'disk', 'redis strict', 'redis l1'] : ['memory', 'disk'];
    const sessions: SessionCounts[] = [];
    const prefixes: PrefixCounts[] = [];
    let refusesBrace = false;
    try {
      for (const kind of kinds) {
        const place =
          kind === 'disk' ? join(dir, 'sessions.sqlite') : `${root}sessions:${kind.replace(' ', '-')}:`;
        sessions.push(await sessionIsolation(kind, place, s));
      }
      prefixes.push(await memoryBackends());
      prefixes.push(await diskFiles(dir));
      if (redis) {
        prefixes.push(await redisPrefixes(`${root}prefixes-strict:`, false));
        prefixes.push(await redisPrefixes(`${root}prefixes-l1:`, true));
        refusesBrace = await braceRefused();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (redis) await dropPrefix(root);
    }
    const modes = await fileModes();

    const sessionFailures = sessions.reduce(
      (n, c) =>
        n +
        c.leaks +
        c.wrongOutcomes +
        c.metricMismatches +
        c.endedEntriesLeft +
        c.hitsAfterEnd +
        c.liveLost +
        c.leftAtEnd,
      0,
    );
    const prefixFailures = prefixes.reduce(
      (n, c) => n + c.foreignChanged + c.foreignMisses + c.ownNotDropped + c.strayKeys,
      0,
    );
    const ours = modes.rows.filter((r) => r.ours);
    const wideModes = ours.filter((r) => r.mode !== 0o600).length;
    const ok =
      sessionFailures === 0 &&
      prefixFailures === 0 &&
      wideModes === 0 &&
      ours.some((r) => r.file.endsWith('-wal')) &&
      ours.some((r) => r.file.endsWith('-shm')) &&
      modes.missingDirectoryRefused &&
      modes.directoriesCreated === 0 &&
      (!redis || refusesBrace);

    const markdown = [
      `**Sessions.** On each backend, ${s.sessions} sessions run at once, ${s.calls} calls each (${(s.sessions * s.calls).toLocaleString('en')} in all), interleaved: a session-scoped read tool called with the same arguments in every session (${s.items} items, the arguments made to look like key material), and one call in ten a session-scoped write to one of the session's items. The session ids are built to look alike: \`7\`, \`7"\`, \`7:\`, \`7\\u0000x\`, \`7{}\`, \`7*?[\`, \`s"7","g\`, \`7\\\\\`, \`sess 7\`, \`セッション7\`. Each session knows which of its calls must hit. Then half the sessions end while the other half live on; a new session under each ended id reads every item; the live ones read what they had cached; then all end.`,
      '',
      table([
        [
          'backend',
          'calls',
          'hits / misses (as expected by each session)',
          'values from another session',
          'wrong hit or miss',
          'sessions with counters not their own',
          'entries of ended sessions left',
          'hits for a new session under an ended id',
          'live sessions’ entries lost to another’s end',
          'left after every session ended',
        ],
        ...sessions.map((c) => [
          c.backend,
          c.calls.toLocaleString('en'),
          `${c.hits.toLocaleString('en')} / ${c.misses.toLocaleString('en')}`,
          c.leaks,
          c.wrongOutcomes,
          c.metricMismatches,
          c.endedEntriesLeft,
          c.hitsAfterEnd,
          c.liveLost,
          c.leftAtEnd,
        ]),
      ]),
      '',
      'Entries are counted through `inspect({ stale: true })` (disk, Redis; on Redis the session indexes are counted too, from the raw keys) and `size`/`sessionCount` (memory). Every figure but the calls must be 0.',
      '',
      '**Caches side by side.** Two caches hold the same tools, arguments, resources and session ids (a global and a session-scoped read tool over 8 items, sessions `S1` and `S2`). Each in turn, on a filled pair: a write invalidating `r:0`, the end of its session `S1`, and `clear()`. After each step the other cache must hold exactly what it held (on Redis: every key of its prefix and its value, compared with `DUMP`), and all of its 24 calls must hit; the cache that acted must miss on what its step dropped.',
      '',
      table([
        [
          'pair',
          'steps',
          'calls checked',
          'steps that changed the other cache',
          'calls of the other cache that missed',
          'entries the acting cache kept',
          'keys of neither prefix',
        ],
        ...prefixes.map((c) => [
          c.pair,
          c.steps,
          c.checks,
          c.foreignChanged,
          c.foreignMisses,
          c.ownNotDropped,
          c.strayKeys,
        ]),
      ]),
      '',
      redis
        ? `Every key of a RedisBackend starts with its prefix followed by \`{\`, and a prefix may not contain \`{\` (\`prefix: 'app:{x}:'\` ${refusesBrace ? 'is refused with an AgentCacheTypeError' : '**was accepted**'}), so \`app:\`'s patterns (\`app:{*\`) can never match a key of \`app:tenant2:\` (\`app:tenant2:{…\`), nor the reverse.`
        : `**Redis rows not run: no Redis at ${REDIS_URL}.**`,
      '',
      `**File modes.** A child process with umask ${octal(modes.umask)} (nothing masked) opens DiskBackend files and writes entries and a session; every file the library created must be mode 0600.`,
      '',
      table([
        ['when', 'file', 'mode', 'created by'],
        ...modes.rows.map((r) => [
          r.when,
          `\`${r.file.replace(/corrupt-\d+/, 'corrupt-<time>')}\``,
          octal(r.mode),
          r.ours ? 'agent-cache' : 'the user (kept as it was)',
        ]),
      ]),
      '',
      `Opening a file in a directory that does not exist ${modes.missingDirectoryRefused ? 'throws' : '**did not throw**'} and creates ${modes.directoriesCreated} directories: the library creates no directory (the demo makes its own \`.agent-cache/\` with mode 0700). SQLite creates the -wal and -shm files with the mode of the database file.`,
    ].join('\n');

    return {
      ok,
      markdown,
      figures: {
        backends: sessions.length,
        sessionCalls: sessions.reduce((n, c) => n + c.calls, 0),
        sessionHits: Math.min(...sessions.map((c) => c.hits)),
        sessionMisses: Math.min(...sessions.map((c) => c.misses)),
        sessionFailures,
        leaks: sessions.reduce((n, c) => n + c.leaks, 0),
        wrongOutcomes: sessions.reduce((n, c) => n + c.wrongOutcomes, 0),
        metricMismatches: sessions.reduce((n, c) => n + c.metricMismatches, 0),
        endedEntriesLeft: sessions.reduce((n, c) => n + c.endedEntriesLeft, 0),
        hitsAfterEnd: sessions.reduce((n, c) => n + c.hitsAfterEnd, 0),
        liveLost: sessions.reduce((n, c) => n + c.liveLost, 0),
        leftAtEnd: sessions.reduce((n, c) => n + c.leftAtEnd, 0),
        pairs: prefixes.length,
        prefixSteps: prefixes.reduce((n, c) => n + c.steps, 0),
        prefixChecks: prefixes.reduce((n, c) => n + c.checks, 0),
        prefixFailures,
        foreignChanged: prefixes.reduce((n, c) => n + c.foreignChanged, 0),
        foreignMisses: prefixes.reduce((n, c) => n + c.foreignMisses, 0),
        ownNotDropped: prefixes.reduce((n, c) => n + c.ownNotDropped, 0),
        strayKeys: prefixes.reduce((n, c) => n + c.strayKeys, 0),
        filesChecked: ours.length,
        walFiles: ours.filter((r) => r.file.endsWith('-wal')).length,
        shmFiles: ours.filter((r) => r.file.endsWith('-shm')).length,
        wideModes,
        missingDirectoryRefused: modes.missingDirectoryRefused ? 1 : 0,
        directoriesCreated: modes.directoriesCreated,
        redis: redis ? 1 : 0,
        braceRefused: refusesBrace ? 1 : 0,
      },
    };
  },
};

export default scenario;
