/**
 * A reliability scenario (see RELIABILITY.md): one file `stress/<id>.stress.ts` whose default export is a Scenario.
 * `npm run stress` runs every scenario at full size and writes its section of RELIABILITY.md; the tests in
 * `test/stress/` run the same scenarios at the CI size and assert on the figures (`ok` and the counts).
 */
export type ScenarioSize = 'ci' | 'full';

export interface ScenarioReport {
  /** Markdown body of the scenario's section: what ran (counts) and the figures, usually a table. */
  readonly markdown: string;
  /** Whether every guarantee held (0 stale reads, 0 failed calls, ...). `npm run stress` exits 1 otherwise. */
  readonly ok: boolean;
  /** The figures, by name, for tests to assert on (e.g. `{ staleReads: 0, operations: 100000 }`). */
  readonly figures: Readonly<Record<string, number>>;
}

export interface Scenario {
  /** Stable id: the file name without `.stress.ts`, and the marker of its section in RELIABILITY.md. */
  readonly id: string;
  readonly title: string;
  run(size: ScenarioSize): Promise<ScenarioReport>;
}

/** A markdown table from rows of cells (the first row is the header). */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const [head, ...body] = rows;
  if (head === undefined) return '';
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(head), `| ${head.map(() => '---').join(' | ')} |`, ...body.map(line)].join('\n');
}
