import { expect } from 'vitest';
import { NotCanonicalisableError } from '../../src/index.js';

/** The NotCanonicalisableError `f` throws (the test fails if it throws anything else, or nothing). */
export function refusal(f: () => unknown): NotCanonicalisableError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(NotCanonicalisableError);
    return error as NotCanonicalisableError;
  }
  throw new Error('expected a NotCanonicalisableError');
}
