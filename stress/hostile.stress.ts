/**
 * Hostile input beyond key fuzzing (which stress/keys.stress.ts covers): 10 MB values through every backend,
 * arguments and results nested 100,000 levels deep, unicode and separator-laden names, ids and arguments, tampered
 * cache files and tampered Redis values.
 */
import { probeRedis, REDIS_URL } from '../test/backends/fixtures/redis.js';
import { type Check, captureLogs, Place } from './hostile/checks.js';
import { deepNesting } from './hostile/deep-nesting.js';
import { largeValues } from './hostile/large-values.js';
import { hostileNames } from './hostile/names.js';
import { inert, NODE_SERIALIZE, naiveRevive, resetCanary } from './hostile/payloads.js';
import { tamperedDisk } from './hostile/tampered-disk.js';
import { tamperedRedis } from './hostile/tampered-redis.js';
import { type Scenario, type ScenarioSize, table } from './scenario.js';

const SIZES: Record<ScenarioSize, { mb: number; flips: number; names: number; redisKeys: number }> = {
  ci: { mb: 2, flips: 12, names: 18, redisKeys: 3 },
  full: { mb: 10, flips: 400, names: Number.POSITIVE_INFINITY, redisKeys: 12 },
};

const list = (m: ReadonlyMap<string, number>) =>
  m.size === 0 ? '' : [...m].map(([k, n]) => `${k}: ${n}`).join('; ');

function markdown(
  checks: readonly Check[],
  large: Awaited<ReturnType<typeof largeValues>>['rows'],
  redis: boolean,
  live: boolean,
  crashes: number,
): string {
  const main = table([
    ['check', 'backend', 'cases', 'failures', 'outcomes', 'known limits'],
    ...checks.map((c) => [
      c.name,
      c.backend,
      c.cases,
      c.failed === 0 ? '0' : `**${c.failed}** (${list(c.failures)})`,
      list(c.notes) || '-',
      c.limits.size === 0 ? '-' : `**${list(c.limits)}**`,
    ]),
  ]);
  const limits = checks.flatMap((c) => c.limitExamples.map((e) => `${c.name}: ${e}`));
  const big = table([
    ['backend', 'value', 'size', 'stored and read back', 'store', 'hit', 'read by another instance'],
    ...large.map((r) => [
      r.backend,
      r.kind,
      `${r.mb} MB`,
      'yes',
      `${r.storeMs.toFixed(0)} ms`,
      `${r.hitMs.toFixed(0)} ms`,
      r.reopenedMs < 0 ? '-' : `${r.reopenedMs.toFixed(0)} ms`,
    ]),
  ]);
  const failures = checks.flatMap((c) => c.examples.map((e) => `${c.name} (${c.backend}): ${e}`));
  return `Every case goes through real tool calls (\`AgentCache\`, \`AgentCacheInvalidator\`, sessions) on real backends; a case fails on an exception out of a tool call, a result that differs from what the tool returns, an entry shared by two different calls or sessions, an invalidation that reaches too little or too much, or code that runs. Uncaught exceptions and unhandled rejections during the run: ${crashes}.

${main}

10 MB results (times are one call each on the machine above, for scale only):

${big}

**Why a tampered value cannot run code.** Disk and Redis values are v8-serialized. That format has no tag for a function, a class or source text: it rebuilds only data (primitives, plain objects and arrays, Date, RegExp as a pattern, Map, Set, Error with string message and stack, ArrayBuffer and its views; Node adds Buffers and typed arrays). Properties are defined as own data properties, so no setter, getter or \`__proto__\` assignment runs, and every object gets the standard prototype of its kind, so no constructor or method of any class is called. Bytes that are not such a value (JSON text, truncated, a forged host object, a future format version) throw while decoding, which the backends turn into a miss and a deletion of the entry. The crafted payloads above include node-serialize's function marker (CVE-2017-5941): ${live ? 'under a naive reviver that evaluates it (run once by this scenario) it **runs**' : 'the naive reviver did NOT run it (the demonstration failed)'}; through agent-cache it comes back as the string it is. A crafted payload that also carries current generations is served — as plain data: the cache file (mode 0600) and the Redis are trusted storage, and agent-cache guarantees inertness, not authenticity, of what they hold.${redis ? '' : `\n\n**Redis checks not run: no Redis at ${REDIS_URL}.**`}
${limits.length === 0 ? '' : `\n**Known limit: values altered in place.** SQLite keeps no checksum of its pages and agent-cache none of a value, so a byte changed inside a stored value that still decodes as a value is served as it now is (for example: ${limits[0]}). Damage that breaks the file's structure or the value's format is detected (moved aside at open, or a miss). Detecting the rest needs a checksum per entry; see the report of this run.\n`}
${
  failures.length === 0
    ? ''
    : `\nFirst failures:\n\n${failures
        .slice(0, 20)
        .map((f) => `- ${f}`)
        .join('\n')}\n`
}`;
}

const scenario: Scenario = {
  id: 'hostile',
  title:
    'Hostile input: 10 MB values, 100k-deep nesting, hostile names and ids, tampered files and Redis values',
  async run(size) {
    const redis = await probeRedis();
    const place = new Place(redis);
    const logs = captureLogs();
    let crashes = 0;
    const crashed = (error: unknown) => {
      crashes++;
      if (crashes <= 3) console.error('hostile: uncaught', error);
    };
    process.on('uncaughtException', crashed);
    process.on('unhandledRejection', crashed);
    const checks: Check[] = [];
    let large: Awaited<ReturnType<typeof largeValues>>['rows'] = [];
    let live = false;
    try {
      const big = await largeValues(place, SIZES[size].mb);
      checks.push(big.check);
      large = big.rows;
      for (const kind of place.kinds) checks.push(await deepNesting(place, kind, 100_000));
      for (const kind of place.kinds) checks.push(...(await hostileNames(place, kind, SIZES[size].names)));
      // The payload is live: a naive reviver runs it.
      naiveRevive(JSON.stringify(NODE_SERIALIZE));
      live = !inert();
      resetCanary();
      checks.push(...(await tamperedDisk(place, SIZES[size].flips)));
      if (redis) checks.push(...(await tamperedRedis(place, SIZES[size].redisKeys)));
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('uncaughtException', crashed);
      process.off('unhandledRejection', crashed);
      logs.restore();
      await place.close();
    }
    const figures: Record<string, number> = { crashes, payloadLive: live ? 1 : 0, largeValues: large.length };
    let limited = 0;
    for (const c of checks) {
      const id = `${c.name} [${c.backend}]`;
      figures[`${id}.cases`] = c.cases;
      figures[`${id}.failures`] = c.failed;
      for (const n of c.limits.values()) limited += n;
    }
    figures.alteredValuesServed = limited;
    return {
      markdown: markdown(checks, large, redis, live, crashes),
      ok: redis && live && crashes === 0 && checks.every((c) => c.failed === 0),
      figures,
    };
  },
};

export default scenario;
