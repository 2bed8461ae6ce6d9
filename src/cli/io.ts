/** Where the command writes: the process's streams, or a test's buffers. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** stderr is a terminal: progress bars go there only then. */
  readonly stderrIsTTY: boolean;
  /** The terminal's width, for progress bars. */
  readonly columns: number;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns ?? 80,
  };
}
