import { describe, expect, it } from 'vitest';
import { InsertionList, type Listed } from '../../lib/core/utils/insertion-list';

interface Entry extends Listed<Entry> {
  readonly name: string;
}

const entry = (name: string): Entry => ({ name, listPrev: undefined, listNext: undefined });
const names = (list: InsertionList<Entry>) => [...list].map((e) => e.name);

/** The links-on-the-entry list behind BoundedCalls' calls in flight and a service's held leases. */
describe('InsertionList', () => {
  it('keeps insertion order through deletes at the head, the middle and the tail', () => {
    const list = new InsertionList<Entry>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(entry) as [Entry, Entry, Entry, Entry];
    for (const e of [a, b, c, d]) list.add(e);
    expect(names(list)).toEqual(['a', 'b', 'c', 'd']);
    expect(list.delete(b)).toBe(true);
    expect(names(list)).toEqual(['a', 'c', 'd']);
    expect(list.delete(a)).toBe(true);
    expect(list.first()).toBe(c);
    expect(list.delete(d)).toBe(true);
    expect(names(list)).toEqual(['c']);
    list.add(a);
    expect(names(list)).toEqual(['c', 'a']);
    expect(list.size).toBe(2);
  });

  it('answers false for an entry not in it, twice deleted or never added, and counts right', () => {
    const list = new InsertionList<Entry>();
    const [a, b, stranger] = ['a', 'b', 'stranger'].map(entry) as [Entry, Entry, Entry];
    list.add(a);
    list.add(b);
    expect(list.delete(stranger)).toBe(false);
    expect(list.delete(b)).toBe(true);
    expect(list.delete(b)).toBe(false);
    expect(list.size).toBe(1);
    expect(list.delete(a)).toBe(true);
    expect(list.delete(a)).toBe(false);
    expect(list.size).toBe(0);
    expect(list.first()).toBeUndefined();
    expect(names(list)).toEqual([]);
  });

  it('keeps an entry added twice once, where it was (as a Set would)', () => {
    const list = new InsertionList<Entry>();
    const [a, b] = ['a', 'b'].map(entry) as [Entry, Entry];
    list.add(a);
    list.add(b);
    list.add(a);
    list.add(b);
    expect(names(list)).toEqual(['a', 'b']);
    expect(list.size).toBe(2);
  });

  it('lets the entry being visited be deleted (a sweep that settles what it visits)', () => {
    const list = new InsertionList<Entry>();
    for (const name of ['a', 'b', 'c']) list.add(entry(name));
    const visited: string[] = [];
    for (const e of list) {
      visited.push(e.name);
      list.delete(e);
    }
    expect(visited).toEqual(['a', 'b', 'c']);
    expect(list.size).toBe(0);
  });

  it('leaves a deleted entry linked to nothing, so it keeps no other entry alive', () => {
    const list = new InsertionList<Entry>();
    const [a, b, c] = ['a', 'b', 'c'].map(entry) as [Entry, Entry, Entry];
    for (const e of [a, b, c]) list.add(e);
    list.delete(b);
    expect([b.listPrev, b.listNext]).toEqual([undefined, undefined]);
    expect(a.listNext).toBe(c);
    expect(c.listPrev).toBe(a);
  });
});
