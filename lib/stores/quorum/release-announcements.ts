import { majorityOf } from './majority';

/** How many recent release ids a listener remembers (a release reaches it once per node). */
const REMEMBERED = 32;

/**
 * Wraps `listener` for a quorum of `count` nodes, each of which announces one release under one
 * id: it is called on the first announcement (the keys may already be free on a majority, when
 * the others never held them) and again on the majority's (they are free on a majority now),
 * never on the rest. The release reaches the nodes at different times: an attempt on the first
 * announcement alone finds the keys still held where the release has not arrived yet, and the
 * waiter would otherwise sleep its poll while they are free. Announcements without an id ('')
 * always pass.
 */
export function onFirstAndMajority(listener: () => void, count: number): (releaseId: string) => void {
  const majority = majorityOf(count);
  const heard = new Map<string, number>();
  return (releaseId) => {
    if (releaseId !== '') {
      const times = (heard.get(releaseId) ?? 0) + 1;
      heard.set(releaseId, times);
      if (heard.size > REMEMBERED) heard.delete(heard.keys().next().value!);
      if (times !== 1 && times !== majority) return;
    }
    listener();
  };
}
