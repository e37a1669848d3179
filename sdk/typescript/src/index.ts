export {
  UsageTracker,
  MAX_BATCH_SIZE,
  MAX_BATCH_BYTES,
  type HitInput,
  type UsageTrackerOptions,
  type UsageTrackerStats,
  type UsageTrackerEvent,
  type FetchLike,
} from './tracker.js';
export { usageTracking, type UsageTrackingOptions, type RequestLike, type ResponseLike } from './middleware.js';
export { clientAddress, type TrustProxy } from './client-address.js';
export type { Clock, TimerHandle } from './clock.js';
export type { Problem, FieldError } from './problem.js';
