import { afterAll, beforeAll } from 'vitest';
import { toStoreKey } from '../../lib/core/keys/store-keys';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import type { StoreRun } from './stores';

/** What a suite gets once its store is up. */
export interface StartedStore {
  run: StoreRun;
  store: LockStore;
}

/** One store per suite, with fresh keys and tokens: the contract suites set each kind of store up alike. */
export function storePerSuite(
  descriptor: { start(): Promise<StoreRun> },
  options: { prefix: string; timeout: number; onStart: (started: StartedStore) => void },
): { key: () => string; token: () => string } {
  let run: StoreRun | undefined;
  let store: LockStore | undefined;
  let n = 0;
  let t = 0;

  beforeAll(async () => {
    run = await descriptor.start();
    store = run.createStore(options.timeout);
    options.onStart({ run, store });
  });
  afterAll(async () => {
    await store?.close();
    await run?.stop();
  });

  return { key: () => toStoreKey(options.prefix, `k${++n}`), token: () => `token-${++t}` };
}
