import { Observable, finalize } from 'rxjs';
import type { Lock } from './lock';
import type { Locker, LockRequest } from './locker';
import { runInLockScope } from './scope/lock-scope';
import { Cancellation, UNSUBSCRIBED } from './utils/cancellation';

/**
 * The life cycle for Observables, first half: acquires on subscribe and emits the Lock (completes
 * empty when onBusy 'skip' finds it busy). Unsubscribing while waiting cancels the wait;
 * `watchCancel` starts watching for another reason to stop waiting (a client that disconnects)
 * once waiting begins. @internal
 */
export function acquire$(
  locker: Locker,
  request: () => LockRequest,
  watchCancel?: (cancel: (reason: unknown) => void) => () => void,
): Observable<Lock> {
  return new Observable<Lock>((subscriber) => {
    let lockRequest: LockRequest;
    try {
      lockRequest = request();
    } catch (error) {
      subscriber.error(error);
      return;
    }
    const cancellation = new Cancellation(watchCancel);
    let settled = false;
    locker.take(lockRequest, { signal: cancellation }).then(
      (lock) => {
        settled = true;
        cancellation.dispose();
        // Unsubscribed while the acquire was in flight: nobody will run, so let go at once.
        if (subscriber.closed) return void lock.releaseQuietly();
        subscriber.next(lock);
        subscriber.complete();
      },
      (error: unknown) => {
        settled = true;
        cancellation.dispose();
        if (locker.skips(lockRequest, error)) subscriber.complete();
        else subscriber.error(error);
      },
    );
    return () => {
      if (!settled) cancellation.abort(UNSUBSCRIBED);
    };
  });
}

/**
 * The life cycle for Observables, second half: subscribes to `work` inside the lock's scope and
 * releases in finalize (complete, error or unsubscribe). `passThrough` is a @WithLock-wrapped
 * method the lock was already taken for: its wrapper lets one call through. @internal
 */
export function hold$<T>(lock: Lock, work: () => Observable<T>, passThrough?: Function): Observable<T> {
  return new Observable<T>((subscriber) => runInLockScope(lock, () => work().subscribe(subscriber), passThrough)).pipe(
    finalize(() => void lock.releaseQuietly()),
  );
}
