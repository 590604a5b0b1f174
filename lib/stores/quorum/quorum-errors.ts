import { LockStoreError } from '../../core/errors';
import { QUORUM_UNREACHABLE } from '../../core/lock.messages';
import type { Verdict } from './majority';

/** The quorum could not answer: too many nodes failed or stayed silent within storeTimeout. */
export function quorumUnreachable(operation: string, count: number, verdict: Verdict<unknown>): LockStoreError {
  const first = verdict.errors[0];
  const detail = first instanceof Error ? first.message : 'no answer';
  return new LockStoreError(QUORUM_UNREACHABLE(operation, verdict.silent.length, count, detail), { cause: first });
}
