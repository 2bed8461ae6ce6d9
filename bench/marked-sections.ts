/**
 * Generated markdown files made of marked sections (BENCHMARKS.md, RELIABILITY.md): a fixed header, then one
 * section per source file, each between `<!-- <kind>:<id> -->` and `<!-- /<kind>:<id> -->`. A run rewrites the
 * sections of the files it ran and keeps every other section as it was, so running one bench or one scenario never
 * loses the figures of the others.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The sections of `file` marked with `kind`, by id (empty when the file does not exist yet). */
export function readSections(file: string, kind: string): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(file)) return sections;
  const marker = new RegExp(`<!-- ${kind}:(\\S+) -->\\n([\\s\\S]*?)<!-- /${kind}:\\1 -->`, 'g');
  for (const m of readFileSync(file, 'utf8').matchAll(marker)) sections.set(m[1]!, m[2]!);
  return sections;
}

/** Writes `header`, then every section in the order given, each between its markers. */
export function writeSections(
  file: string,
  kind: string,
  header: string,
  sections: ReadonlyMap<string, string>,
): void {
  const body = [...sections.entries()]
    .map(([id, text]) => `<!-- ${kind}:${id} -->\n${text.trimEnd()}\n\n<!-- /${kind}:${id} -->`)
    .join('\n\n');
  writeFileSync(file, `${header.trimEnd()}\n\n${body}\n`);
}

/** The sections ordered by id. */
export function byId(sections: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...sections.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
