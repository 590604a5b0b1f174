import type { LockLostReason } from '../errors';
import type { LockKind } from '../../stores/lock-store.interface';

/** How an acquisition ended, as spans and the `lock.acquire.duration` histogram report it. */
export type AcquireOutcome = 'acquired' | 'busy' | 'skipped' | 'unavailable' | 'aborted' | 'error';

/** One recorded acquisition in flight: its span and when it began. @internal */
export interface AcquireTrace {
  readonly startedAt: number;
  end(outcome: AcquireOutcome, attributes: { fence?: number; reentered?: boolean }): void;
}

/** A held lease as telemetry sees it: its low-cardinality name and its kind. @internal */
export interface HeldLeaseView {
  readonly name: string;
  readonly kind: LockKind;
}

/** One term of a leadership being recorded: ends with the step down. @internal */
export interface LeadershipTrace {
  steppedDown(reason: string): void;
}

/**
 * The seam the core records through: one call per event, each a no-op (no allocation) while no
 * OpenTelemetry SDK is registered. Implemented over `@opentelemetry/api` when that package is
 * installed (see open-telemetry.ts), by NO_TELEMETRY when it is not. @internal
 */
export interface LockTelemetry {
  /** An acquisition of a lock of `kind` begins; undefined when nothing records. */
  acquireStarted(name: string, kind: LockKind): AcquireTrace | undefined;
  /** A lease was won and handed out. */
  holdStarted(lease: HeldLeaseView): void;
  /** The lease stopped being held (released or lost). */
  holdEnded(lease: HeldLeaseView): void;
  lost(lease: HeldLeaseView, reason: LockLostReason): void;
  /** This replica was elected leader of `name` with `term`; undefined when nothing records. */
  elected(name: string, term: number): LeadershipTrace | undefined;
}

/** Records nothing: `@opentelemetry/api` is not installed. @internal */
export const NO_TELEMETRY: LockTelemetry = {
  acquireStarted: () => undefined,
  holdStarted: () => undefined,
  holdEnded: () => undefined,
  lost: () => undefined,
  elected: () => undefined,
};
