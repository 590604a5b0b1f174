import { lateCallOf } from './bounded-calls';

/** A token whose grant call timed out, and may yet run. */
interface Suspect {
  /** Grant calls for the token sent since it became a suspect, not yet answered. */
  inFlight: number;
  /** Its timed-out calls that have not settled yet. */
  late: number;
  /** One of them ran after all, and was not undone since. */
  ranLate: boolean;
}

/**
 * Grant calls that timed out but may still run: ioredis keeps a call in its offline queue, and a
 * Cluster retries a redirected one (TRYAGAIN, a closed connection) on a random node after a
 * delay, so the undo sent at the timeout can run before it. Once such a call has run (its late
 * reply arrived), its token is undone again, unless the token was granted since, and not while
 * another grant call for it is in flight: a waiter retries with the same token, and a later
 * call's grant (or a re-run answering it) is that waiter's lock. Costs nothing while no call
 * timed out.
 */
export class LateGrants {
  private readonly suspects = new Map<string, Suspect>();

  /** `undo`: a compare-and-delete of `token`'s keys, queued on the store's connection. */
  constructor(private readonly undo: (keys: readonly string[], token: string) => void) {}

  /** A grant call for `token` is sent: whether it must be reported to `answered()`. */
  sending(token: string): boolean {
    const suspect = this.suspects.size === 0 ? undefined : this.suspects.get(token);
    if (suspect) suspect.inFlight++;
    return suspect !== undefined;
  }

  /** A call `sending()` reported was answered: `granted` if the token holds the keys now. */
  answered(keys: readonly string[], token: string, granted: boolean): void {
    const suspect = this.suspects.get(token);
    if (!suspect) return;
    suspect.inFlight--;
    if (granted) this.suspects.delete(token);
    else this.decide(keys, token, suspect);
  }

  /** A grant call for `token` failed with `error` (the store undid it at once); `watched`: see sending(). */
  failed(keys: readonly string[], token: string, error: unknown, watched: boolean): void {
    if (watched) this.answered(keys, token, false);
    const call = lateCallOf(error);
    if (!call) return;
    let suspect = this.suspects.get(token);
    if (!suspect) this.suspects.set(token, (suspect = { inFlight: 0, late: 0, ranLate: false }));
    const mine = suspect;
    mine.late++;
    call.then(
      () => this.settled(keys, token, mine, true),
      () => this.settled(keys, token, mine, false),
    );
  }

  private settled(keys: readonly string[], token: string, suspect: Suspect, ran: boolean): void {
    suspect.late--;
    if (this.suspects.get(token) !== suspect) return; // granted since: that grant is the token's lock
    if (ran) suspect.ranLate = true;
    this.decide(keys, token, suspect);
  }

  /** With no grant call for the token in flight: undoes what ran late; forgets it once nothing can. */
  private decide(keys: readonly string[], token: string, suspect: Suspect): void {
    if (suspect.inFlight > 0) return;
    if (suspect.ranLate) {
      suspect.ranLate = false;
      this.undo(keys, token);
    }
    if (suspect.late === 0) this.suspects.delete(token);
  }
}
