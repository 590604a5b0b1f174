/**
 * Bucket boundaries (seconds) advised for the lock duration histograms: an uncontended
 * acquisition takes about a millisecond, a wait or a hold can last tens of seconds. The SDK's
 * default boundaries (0, 5, 10, … 10 000) would put everything under 5 s into one bucket.
 * An application's View overrides the advice.
 */
export const LOCK_LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
