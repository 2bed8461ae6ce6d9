/** Tags and tool keys read back from their text: what inspection decodes an entry's tool, resources and scope from. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseTag,
  parseToolKey,
  resourceTag,
  sessionResourceTag,
  toolKeyPrefix,
  toolTag,
} from '../../src/tool/tags.js';

const text = fc.string({ unit: 'binary', maxLength: 12 });

describe('parseTag / parseToolKey', () => {
  it('invert toolTag, resourceTag and sessionResourceTag for any names', () => {
    fc.assert(
      fc.property(text, text, text, (ns, name, sid) => {
        expect(parseTag(toolTag(ns, name))).toEqual({ kind: 'tool', namespace: ns, tool: name });
        expect(parseTag(resourceTag(ns, name))).toEqual({ kind: 'resource', namespace: ns, resource: name });
        expect(parseTag(sessionResourceTag(ns, `s${JSON.stringify(sid)}`, name))).toEqual({
          kind: 'session-resource',
          sessionId: sid,
          namespace: ns,
          resource: name,
        });
      }),
    );
  });

  it('invert the key of a global and of a session-scoped call', () => {
    fc.assert(
      fc.property(text, text, text, (ns, tool, sid) => {
        const prefix = toolKeyPrefix(ns, tool);
        expect(parseToolKey(`${prefix}g["T-1",n2]`)).toEqual({
          namespace: ns,
          tool,
          sessionId: undefined,
          material: '["T-1",n2]',
        });
        expect(parseToolKey(`${prefix}s${JSON.stringify(sid)}#abc`)).toEqual({
          namespace: ns,
          tool,
          sessionId: sid,
          material: '#abc',
        });
      }),
    );
  });

  it('return undefined for text in no such format', () => {
    for (const tag of ['', 't', 't"a"', 'x"a""b"', 'r"a""b"c', 't"a""b""c"', 's"a""b"', 'r"a', 't:tool']) {
      expect(parseTag(tag)).toBeUndefined();
    }
    for (const key of ['', 'k', '"a"', '"a""b"', '"a""b"x[]', '"a""b"s"x', 'llm""0000']) {
      expect(parseToolKey(key)).toBeUndefined();
    }
  });
});
