import type { CliIo } from '../io.js';

/** Traces smaller than this replay in well under a second: no bar, which would only flicker. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;

export interface Progress {
  update(bytes: number, calls: number): void;
  /** Removes the bar, so that what follows starts on a clean line. */
  done(): void;
}

const NONE: Progress = { update() {}, done() {} };

/**
 * A progress bar on stderr, for long traces only and only when stderr is a terminal (never in a pipe, a log file
 * or CI output). It is redrawn when the whole percentage changes, so at most about a hundred times.
 */
export function progressBar(io: CliIo, totalBytes: number): Progress {
  if (!io.stderrIsTTY || totalBytes < PROGRESS_MIN_BYTES) return NONE;
  const width = Math.max(10, Math.min(40, io.columns - 40));
  let shown = -1;
  let drawn = false;
  return {
    update(bytes, calls) {
      const pct = Math.min(100, Math.floor((bytes / totalBytes) * 100));
      if (pct === shown) return;
      shown = pct;
      drawn = true;
      const full = Math.round((pct / 100) * width);
      io.stderr(
        `\r  replaying ${'█'.repeat(full)}${'░'.repeat(width - full)} ${String(pct).padStart(3)}%  ${calls.toLocaleString('en-US')} calls`,
      );
    },
    done() {
      if (drawn) io.stderr('\r\x1b[K');
    },
  };
}
