/**
 * Every entry point works from the packed package installed into a fresh project. Each file in
 * test/package/cases/ is a script a user could have written; it exits non-zero (with a message) when something it
 * checks does not hold.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseFiles, createPackedProject, type PackedProject } from './packed-project.js';

describe('the packed package in a fresh project', () => {
  let project: PackedProject;
  beforeAll(() => {
    project = createPackedProject();
  }, 240_000);
  afterAll(() => project?.remove());

  it('installs without bundling any framework', () => {
    const nested = join(project.dir, 'node_modules/agent-cache/node_modules');
    expect(existsSync(nested)).toBe(false);
    expect(existsSync(join(project.dir, 'node_modules/agent-cache/dist/index.js'))).toBe(true);
  });

  for (const file of caseFiles()) {
    it(`runs ${file.split('/').pop()}`, { timeout: 60_000 }, () => {
      const { status, output } = project.run(file);
      expect(output).not.toMatch(/\bFAIL\b/);
      expect(status, output).toBe(0);
    });
  }
});
