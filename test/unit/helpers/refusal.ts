import { expect } from 'vitest';
import { SwitchboardError } from '../../../src/errors.js';

/** The SwitchboardError a promise rejects with; fails the test when it resolves or throws anything else. */
export async function refusalOf(promise: Promise<unknown>): Promise<SwitchboardError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SwitchboardError);
  return error as SwitchboardError;
}
