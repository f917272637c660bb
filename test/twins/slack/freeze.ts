/**
 * Frozen values for tests: what the twin hands out cannot be mutated into a different truth. Typed arrays
 * (Buffers) cannot be frozen and are skipped; callers hand out copies of those instead.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || Object.isFrozen(value)) {
    return value;
  }
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
