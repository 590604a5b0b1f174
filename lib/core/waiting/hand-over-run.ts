/**
 * Consecutive in-process hand-overs of one set of keys, carried from each holder to the next.
 * The count belongs to the run of holders, not to a wait queue: with two callers taking turns,
 * each hand-over empties the queue (which is then deleted) and the giver's next acquire starts a
 * new one, so a count kept there never reached its cap. A lock taken through Redis starts a new
 * run; a run is forgotten with the last lease that carries it, so nothing outlives the keys' use.
 * @internal
 */
export interface HandOverRun {
  /** Counted against MAX_LOCAL_HAND_OVERS (restarted when a reply says nobody else listens). */
  local: number;
  /** Counted against MAX_UNCONTESTED_HAND_OVERS (never restarted). */
  sinceRedis: number;
  /** The last hand-over's reply said waiters of other processes listen for the keys. */
  othersListen: boolean;
  /**
   * Optimistic hand-overs since the store last issued a fence in this run: each spends one of the
   * fences that grant reserved (FENCE_BLOCK), so the next one past the block waits for the store.
   */
  spent: number;
}
