import { LockError } from '../errors';

/** The part of AbortSignal that waiting uses; an AbortSignal is one. */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Reason given when an Observable's subscriber leaves while its lock is still being acquired. */
export const UNSUBSCRIBED = new LockError('The subscriber left while the lock was being acquired');

/**
 * A cancellation cheap enough for every call: no AbortController, and `activate` (which starts
 * watching for a reason to cancel, e.g. a client disconnect) runs only once something actually
 * waits on it. An uncontended acquisition never activates it.
 */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown;
  private listeners: (() => void)[] | undefined;
  private deactivate: (() => void) | undefined;

  constructor(private activate?: (cancel: (reason: unknown) => void) => (() => void) | undefined) {}

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.listeners) {
      this.listeners = [];
      const activate = this.activate;
      this.activate = undefined;
      this.deactivate = activate?.((reason) => this.abort(reason));
    }
    this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index !== -1) this.listeners!.splice(index, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.dispose();
    for (const listener of this.listeners?.splice(0) ?? []) listener();
  }

  /** Stops watching (the acquisition is over either way). */
  dispose(): void {
    this.activate = undefined;
    this.deactivate?.();
    this.deactivate = undefined;
  }
}
