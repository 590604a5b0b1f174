import { LockStoreError } from '../errors';

/**
 * Bounds one store call: rejects with LockStoreError after `ms`, and maps any other failure to
 * LockStoreError so callers see one error type for "Redis did not do it".
 */
export function withTimeout<T>(operation: string, ms: number, call: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(LockStoreError.timeout(operation, ms)), ms);
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof LockStoreError ? error : LockStoreError.failed(operation, error));
      },
    );
  });
}
