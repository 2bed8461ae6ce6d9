// agent-cache/langchain from the packed package, with the user's own @langchain/core: what the adapters return
// passes LangChain's own instanceof checks, and a generation cached on disk by one process is a real AIMessage in
// the next one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseCache } from '@langchain/core/caches';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { DynamicStructuredTool, StructuredTool, tool } from '@langchain/core/tools';
import { FakeChatModel } from '@langchain/core/utils/testing';
import { DiskBackend } from 'agent-cache';
import { AgentCacheLangChainCache, cacheLangChainTool } from 'agent-cache/langchain';
import { z } from 'zod';

const dir = mkdtempSync(join(tmpdir(), 'agent-cache-lc-case-'));
const file = join(dir, 'cache.db');
try {
  // Another process asks the model once; its generation lands in the SQLite file.
  const writer = `
    import { AIMessage } from '@langchain/core/messages';
    import { FakeChatModel } from '@langchain/core/utils/testing';
    import { DiskBackend } from 'agent-cache';
    import { AgentCacheLangChainCache } from 'agent-cache/langchain';
    class Model extends FakeChatModel {
      async _generate() {
        const message = new AIMessage({ content: '', tool_calls: [{ name: 'get_weather', args: { city: 'Paris' }, id: 'call_1', type: 'tool_call' }], usage_metadata: { input_tokens: 9, output_tokens: 3, total_tokens: 12 } });
        return { generations: [{ text: '', message }] };
      }
    }
    const backend = new DiskBackend(${JSON.stringify(file)});
    await new Model({ cache: new AgentCacheLangChainCache({ backend }) }).invoke('Weather in Paris?');
    await backend.close();
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', writer], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);

  // This process: the same request is a hit, and the message is an AIMessage of the user's @langchain/core.
  let calls = 0;
  class Model extends FakeChatModel {
    async _generate() {
      calls++;
      return { generations: [{ text: 'fresh', message: new AIMessage('fresh') }] };
    }
  }
  const backend = new DiskBackend(file);
  const cache = new AgentCacheLangChainCache({ backend });
  assert.ok(cache instanceof BaseCache);
  const hit = await new Model({ cache }).invoke('Weather in Paris?');
  assert.equal(calls, 0, 'answered from the file written by the other process');
  assert.ok(
    hit instanceof AIMessage,
    'a cached generation’s message is an AIMessage of the user’s @langchain/core',
  );
  assert.equal(hit.tool_calls[0].id, 'call_1');
  await backend.close();

  // The wrapped tool is the same kind of tool, and its ToolMessage carries the current call's id.
  let runs = 0;
  const weather = tool(
    async ({ city }) => {
      runs++;
      return `sunny in ${city}`;
    },
    { name: 'get_weather', description: 'Weather', schema: z.object({ city: z.string() }) },
  );
  const cached = cacheLangChainTool(weather, { ttl: '1m' });
  assert.ok(cached instanceof DynamicStructuredTool && cached instanceof StructuredTool);
  const a = await cached.invoke({
    name: 'get_weather',
    args: { city: 'Oslo' },
    id: 'call_a',
    type: 'tool_call',
  });
  const b = await cached.invoke({
    name: 'get_weather',
    args: { city: 'Oslo' },
    id: 'call_b',
    type: 'tool_call',
  });
  assert.equal(runs, 1);
  assert.ok(b instanceof ToolMessage);
  assert.equal(a.tool_call_id, 'call_a');
  assert.equal(b.tool_call_id, 'call_b');

  assert.ok(!import.meta.resolve('@langchain/core/messages').includes('/agent-cache/node_modules/'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
