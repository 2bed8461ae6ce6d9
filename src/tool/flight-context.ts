import { AsyncLocalStorage } from 'node:async_hooks';

/** One running execution of a cached tool, as seen from inside it (and from anything it calls). */
interface FlightFrame {
  readonly flight: object;
  readonly parent: FlightFrame | undefined;
}

const flights = new AsyncLocalStorage<FlightFrame>();

/** Runs `fn` as the execution `flight`, nested in whatever execution is running now. */
export function runAsFlight<T>(flight: object, fn: () => T): T {
  return flights.run({ flight, parent: flights.getStore() }, fn);
}

/**
 * Whether the current code runs inside `flight` (directly or through nested tools). A call must not join such an
 * execution: it would wait for itself (a tool that calls itself with the same arguments after an await).
 */
export function insideFlight(flight: object): boolean {
  for (let frame = flights.getStore(); frame !== undefined; frame = frame.parent) {
    if (frame.flight === flight) return true;
  }
  return false;
}
