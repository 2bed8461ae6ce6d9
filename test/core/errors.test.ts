import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AgentCache,
  AgentCacheError,
  AgentCacheSession,
  AgentCacheSessionEndedError,
  AgentCacheTypeError,
  AgentLoopDetectedError,
  BackendClosedError,
  canonicalEncode,
  MemoryBackend,
  NotCanonicalisableError,
} from 'agent-cache';
import { describe, expect, it } from 'vitest';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('errors', () => {
  it('bad options are TypeErrors and AgentCacheErrors with a code', () => {
    const error = caught(() => AgentCache({ ttl: 'soon' as never })(async function f() {}));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(AgentCacheTypeError);
    expect(error).toBeInstanceOf(AgentCacheError);
    expect(AgentCacheError.isInstance(error)).toBe(true);
    expect((error as AgentCacheTypeError).code).toBe('E_INVALID_ARGUMENT');
    expect((error as Error).name).toBe('AgentCacheTypeError');
  });

  it('a value with no canonical form names its code and stays a TypeError', () => {
    const error = caught(() => canonicalEncode({ f: () => 1 }));
    expect(error).toBeInstanceOf(NotCanonicalisableError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(AgentCacheError);
    expect((error as NotCanonicalisableError).code).toBe('E_NOT_CANONICALISABLE');
    expect((error as Error).name).toBe('NotCanonicalisableError');
  });

  it('subclasses keep the ordinary instanceof check', async () => {
    const session = new AgentCacheSession();
    await session.end();
    const ended = await session.run(async () => 1).catch((e: unknown) => e);
    expect(ended).toBeInstanceOf(AgentCacheSessionEndedError);
    expect(ended).toBeInstanceOf(AgentCacheError);
    expect(ended).not.toBeInstanceOf(AgentLoopDetectedError);
    expect((ended as AgentCacheSessionEndedError).code).toBe('E_SESSION_ENDED');
    expect(new Error('plain')).not.toBeInstanceOf(AgentCacheError);
    expect(AgentCacheError.isInstance(new TypeError('plain'))).toBe(false);
  });

  it('a closed backend throws BackendClosedError', async () => {
    const backend = new MemoryBackend();
    await backend.close();
    const error = caught(() => backend.get('k'));
    expect(error).toBeInstanceOf(BackendClosedError);
    expect((error as BackendClosedError).code).toBe('E_BACKEND_CLOSED');
    expect((error as BackendClosedError).backend).toBe('MemoryBackend');
  });
});

const root = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir = join(root, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** The rows of the codes table in docs/errors.md: code, the class column's first name, and the whole class column. */
function documentedCodes(): { code: string; className: string; classColumn: string }[] {
  const text = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  return [...text.matchAll(/^\| `(E_[A-Z_]+)` \| (`(\w+)`[^|]*) \|/gm)].map((m) => ({
    code: m[1]!,
    classColumn: m[2]!,
    className: m[3]!,
  }));
}

const BUILTIN_ERRORS =
  'Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError';
/** What throws or rejects with something that is not an agent-cache error, line by line. */
const PLAIN = [
  new RegExp(`\\bnew\\s+(?:${BUILTIN_ERRORS})\\s*\\(`),
  new RegExp(`\\bthrow\\s+(?:${BUILTIN_ERRORS})\\s*\\(`),
  new RegExp(`\\bextends\\s+(?:${BUILTIN_ERRORS})\\b`),
  /\bthrow\s+['"`]/,
  /\breject\(\s*['"`]/,
];
/** Places that throw a plain error on purpose say why on the line before (or the same line). */
const ON_PURPOSE = 'plain Error on purpose:';

/** `file:line: text` of every line of `text` that throws a plain error without saying why. */
function plainErrors(file: string, text: string): string[] {
  const lines = text.split('\n');
  return lines.flatMap((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    if (/^\s*(?:\*|\/\*)/.test(code) || !PLAIN.some((re) => re.test(code))) return [];
    if (line.includes(ON_PURPOSE) || lines[i - 1]?.includes(ON_PURPOSE)) return [];
    return [`${file}:${i + 1}: ${line.trim()}`];
  });
}

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes the source uses, each with a class the source defines', async () => {
    const used = new Set<string>();
    const classes = new Set<string>();
    for (const file of sourceFiles()) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/'(E_[A-Z_]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/\bclass (\w+)/g)) classes.add(m[1]!);
    }
    const rows = documentedCodes();
    expect(rows.map((r) => r.code).sort()).toEqual([...used].sort());
    expect(new Set(rows.map((r) => r.code)).size).toBe(rows.length);
    const core = (await import('agent-cache')) as Record<string, unknown>;
    const redis = (await import('agent-cache/redis')) as Record<string, unknown>;
    for (const { code, className, classColumn } of rows) {
      expect(classes, `${code}: class ${className}`).toContain(className);
      if (classColumn.includes('`agent-cache` command')) continue; // the command's own errors
      const from = classColumn.includes('agent-cache/redis') ? redis : core;
      expect(typeof from[className], `${code}: ${className} is exported`).toBe('function');
    }
  });

  it('the source throws no plain Error, TypeError or RangeError (a source scan)', () => {
    // The scan itself finds what it looks for.
    expect(
      plainErrors(
        'probe.ts',
        "throw new Error('x');\nreturn Promise.reject(new TypeError('y'));\nclass E extends RangeError {}",
      ),
    ).toHaveLength(3);
    expect(
      plainErrors('probe.ts', `// ${ON_PURPOSE} a test\nthrow new Error('x');\n/** throw new Error() */`),
    ).toEqual([]);
    const found = sourceFiles().flatMap((file) =>
      plainErrors(file.slice(root.length), readFileSync(file, 'utf8')),
    );
    expect(found).toEqual([]);
  });
});
