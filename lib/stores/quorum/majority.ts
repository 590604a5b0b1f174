/** One node's answer to a question put to the quorum. */
export interface Answer<T> {
  readonly node: number;
  readonly value: T;
}

/** What a majority said, as soon as that is known. */
export interface Verdict<T> {
  /**
   * `yes`: a majority answered yes. `no`: a majority answered (yes or no) and yes can no longer
   * reach one. `unreachable`: so many nodes failed that no majority can answer.
   */
  readonly outcome: 'yes' | 'no' | 'unreachable';
  /** The yes answers received by the time of the verdict. */
  readonly yes: readonly Answer<T>[];
  /** The no answers received by the time of the verdict. */
  readonly no: readonly Answer<T>[];
  /** Nodes that failed or had not answered by the time of the verdict (they may still act later). */
  readonly silent: readonly number[];
  readonly errors: readonly unknown[];
}

/** How many of `count` nodes make a majority. */
export function majorityOf(count: number): number {
  return Math.floor(count / 2) + 1;
}

/**
 * Puts a question to `nodes` (indices among `count`; the others count as failed) at once, and
 * settles as soon as the majority's verdict is known, without waiting for slower nodes: a node
 * that is down or slow costs at most the bound on its own call, and nothing once a majority has
 * answered. `ask` rejects for a node that failed (each call is bounded by storeTimeout).
 */
export function askMajority<T>(
  count: number,
  nodes: readonly number[],
  ask: (node: number) => Promise<T>,
  isYes: (value: T) => boolean,
): Promise<Verdict<T>> {
  const quorum = majorityOf(count);
  const yes: Answer<T>[] = [];
  const no: Answer<T>[] = [];
  const errors: unknown[] = [];
  const pending = new Set(nodes);
  let failed = count - nodes.length;
  return new Promise((resolve) => {
    let settled = false;
    const decide = () => {
      if (settled) return;
      const outcome =
        yes.length >= quorum
          ? 'yes'
          : failed > count - quorum
            ? 'unreachable'
            : yes.length + pending.size < quorum && yes.length + no.length >= quorum
              ? 'no'
              : undefined;
      if (!outcome) return;
      settled = true;
      const answered = new Set([...yes, ...no].map((answer) => answer.node));
      const silent = Array.from({ length: count }, (_, node) => node).filter((node) => !answered.has(node));
      resolve({ outcome, yes: [...yes], no: [...no], silent, errors: [...errors] });
    };
    for (const node of nodes) {
      let asked: Promise<T>;
      try {
        asked = ask(node);
      } catch (error) {
        asked = Promise.reject(error);
      }
      asked.then(
        (value) => {
          pending.delete(node);
          (isYes(value) ? yes : no).push({ node, value });
          decide();
        },
        (error: unknown) => {
          pending.delete(node);
          failed++;
          errors.push(error);
          decide();
        },
      );
    }
    decide(); // no node asked at all
  });
}
