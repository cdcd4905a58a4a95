/** Small statistics for the benchmarks. */

/** The p-th percentile (nearest rank) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Median wall time of `runs` calls of `fn`, in milliseconds, after one warm-up call. */
export function medianMs(fn: () => void, runs: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return percentile(times, 50);
}

export const ms = (x: number, digits = 1): string => (Number.isNaN(x) ? '-' : x.toFixed(digits));
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
