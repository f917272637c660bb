/**
 * How far a multi-part delivery got, per outbox row. The outbox retries a failed row as a whole, so without this
 * a failure on the second of three messages would post the first one twice. Kept in memory: after a restart a
 * half-delivered reply starts over, which is rare and visible rather than lossy.
 */
export function createResumable<Progress>(fresh: () => Progress) {
  const progress = new Map<number, Progress>();
  return {
    /** This row's progress, started on its first attempt and kept across its retries. */
    of(id: number): Progress {
      let state = progress.get(id);
      if (state === undefined) {
        state = fresh();
        progress.set(id, state);
      }
      return state;
    },
    /** Delivered, or refused for good: nothing left to resume. */
    forget(id: number): void {
      progress.delete(id);
    },
  };
}
