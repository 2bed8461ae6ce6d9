/**
 * The same AgentCache(...) / AgentCacheInvalidator(...) value is a function wrapper and a TC39 (TypeScript 5+)
 * method decorator. This test type-checks real `@AgentCache` syntax with the TypeScript compiler, compiles it
 * (standard decorators, no experimentalDecorators) and runs the result.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { getMetrics } from '../../src/index.js';
import { freshCache } from '../helpers/fresh.js';

const dir = fileURLToPath(new URL('./.generated/', import.meta.url));
const srcIndex = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

const source = `
import { AgentCache, AgentCacheInvalidator } from '../../../src/index.js';

export class TicketTools {
  calls = 0;
  constructor(readonly prefix: string) {}

  @AgentCache({ resource: (id) => \`ticket:\${String(id)}\`, ttl: '5m' })
  async getTicket(id: string): Promise<{ id: string; n: number; by: string }> {
    this.calls++;
    return { id, n: this.calls, by: this.prefix };
  }

  @AgentCacheInvalidator({ resource: (id) => \`ticket:\${String(id)}\` })
  async closeTicket(id: string): Promise<string> {
    return \`\${this.prefix} closed \${id}\`;
  }
}

// The decorated method keeps its parameter and return types.
export const typed: (t: TicketTools) => Promise<{ id: string; n: number; by: string }> = (t) => t.getTicket('T-1');
`;

describe('decorators', () => {
  beforeEach(() => {
    freshCache();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('type-checks, compiles and runs @AgentCache / @AgentCacheInvalidator on class methods', async () => {
    mkdirSync(dir, { recursive: true });
    const file = `${dir}tools.ts`;
    writeFileSync(file, source);
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts', 'lib.decorators.d.ts'],
    };
    const program = ts.createProgram([file], options);
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);

    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    });
    expect(outputText).toContain('__esDecorate'); // real standard-decorator emit
    const js = `${dir}tools.generated.ts`;
    // A file URL, not a path: a checkout path may hold spaces or other characters a URL escapes.
    writeFileSync(js, outputText.replace('../../../src/index.js', pathToFileURL(srcIndex).href));
    const { TicketTools } = (await import(/* @vite-ignore */ pathToFileURL(js).href)) as {
      TicketTools: new (
        prefix: string,
      ) => {
        calls: number;
        getTicket(id: string): Promise<{ id: string; n: number; by: string }>;
        closeTicket(id: string): Promise<string>;
      };
    };

    const tools = new TicketTools('agent');
    expect(await tools.getTicket('T-1')).toEqual({ id: 'T-1', n: 1, by: 'agent' });
    expect(await tools.getTicket('T-1')).toEqual({ id: 'T-1', n: 1, by: 'agent' });
    expect(tools.calls).toBe(1);
    expect(await tools.closeTicket('T-1')).toBe('agent closed T-1'); // `this` and the result pass through
    expect(await tools.getTicket('T-1')).toEqual({ id: 'T-1', n: 2, by: 'agent' });
    const m = getMetrics();
    expect(m.tools.getTicket).toMatchObject({ hits: 1, misses: 2 });
    expect(m.tools.closeTicket).toMatchObject({ invalidations: 1 });
    const method = TicketTools.prototype.getTicket as unknown as { toolName: string; clear(): Promise<void> };
    expect(method.toolName).toBe('getTicket');
    await method.clear();
    await tools.getTicket('T-1');
    expect(tools.calls).toBe(3);
  });

  it('the same wrapper value works as a function wrapper and as a decorator', async () => {
    const { AgentCache } = await import('../../src/index.js');
    const wrap = AgentCache({ resource: 'x' });
    let n = 0;
    const fnForm = wrap(async function fnForm() {
      return ++n;
    });
    expect(await fnForm()).toBe(1);
    expect(await fnForm()).toBe(1);
    const replaced = wrap(
      async function method(this: { k: number }) {
        return this.k;
      },
      { kind: 'method', name: 'decoratedForm' } as ClassMethodDecoratorContext<{ k: number }>,
    );
    expect(await replaced.call({ k: 7 })).toBe(7);
    expect((replaced as unknown as { toolName: string }).toolName).toBe('decoratedForm');
  });
});
