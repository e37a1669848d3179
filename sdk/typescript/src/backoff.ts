/**
 * Exponential backoff with full jitter (the AWS Architecture Blog's "Exponential Backoff And Jitter"):
 * the n-th consecutive failure waits a uniform random time in [0, min(cap, base × 2^(n-1))], so many
 * clients that failed together do not come back together.
 */
export function fullJitterDelay(failures: number, baseMs: number, capMs: number, random: () => number): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const ceiling = Math.min(capMs, baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
