/** Human output: numbers, sizes, durations and aligned tables, the same way in every command. */

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function duration(ms: number): string {
  if (ms < 1) return ms === 0 ? '0 ms' : `${ms.toFixed(2)} ms`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m ${Math.round((ms % 60_000) / 1_000)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** `3m ago`, `in 2h`, relative to `now`. */
export function relative(at: number, now: number): string {
  const d = at - now;
  const abs = Math.abs(d);
  const s = Math.round(abs / 1_000);
  const m = Math.round(abs / 60_000);
  const h = Math.round(abs / 3_600_000);
  const text = s < 60 ? `${s}s` : m < 60 ? `${m}m` : h < 24 ? `${h}h` : `${Math.round(abs / 86_400_000)}d`;
  return d < 0 ? `${text} ago` : `in ${text}`;
}

export function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/**
 * Aligned columns: the first row is the header; `right` lists the columns aligned right (numbers). Every line is
 * indented by two spaces.
 */
export function table(rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  return rows
    .map((row) =>
      `  ${row
        .map((cell, i) => {
          const pad = ' '.repeat(widths[i]! - [...cell].length);
          return right.includes(i) ? pad + cell : cell + pad;
        })
        .join('  ')}`.trimEnd(),
    )
    .join('\n');
}

/** A one-line quoted form of a name, for output where names may hold spaces or nothing at all. */
export function quoted(name: string): string {
  return /^[\w:./@-]+$/.test(name) ? name : JSON.stringify(name);
}
