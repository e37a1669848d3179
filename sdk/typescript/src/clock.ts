/**
 * Time, timers and randomness as the tracker sees them. The default is the process's own; tests pass a
 * virtual clock so that batching, backoff and pacing are checked without waiting.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` after `ms`; the handle is given back to {@link Clock.clearTimeout} and may have `ref`/`unref`. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Uniform in [0, 1): the jitter of the backoff. */
  random(): number;
}

/** What a timer handle may offer: Node's `Timeout` has both, so the tracker never keeps a process alive. */
export interface TimerHandle {
  ref?(): unknown;
  unref?(): unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};
