import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Tests import the package by its public names (`agent-cache`, `agent-cache/redis`, ...). The aliases are derived
 * from the exports map (each `./dist/X.js` is served from `./src/X.ts`), so an entry point added there is reachable
 * here without a second list.
 */
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { import?: string }>;
};
const alias = Object.entries(pkg.exports).flatMap(([entry, target]) => {
  const file = typeof target === 'string' ? undefined : target.import;
  if (file === undefined || !file.startsWith('./dist/')) return [];
  const name = entry === '.' ? 'agent-cache' : `agent-cache/${entry.slice(2)}`;
  const source = fileURLToPath(
    new URL(`./src/${file.slice('./dist/'.length, -'.js'.length)}.ts`, import.meta.url),
  );
  return [{ find: new RegExp(`^${name.replace(/[/.-]/g, '\\$&')}$`), replacement: source }];
});

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    execArgv: ['--expose-gc'],
  },
});
