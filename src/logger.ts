/** Where agent-cache reports what it decided not to do (bypassed calls, unstorable values, loops in warn mode). */
export interface Logger {
  warn(message: string, ...meta: unknown[]): void;
}

export const consoleLogger: Logger = {
  warn: (message, ...meta) => console.warn(message, ...meta),
};
