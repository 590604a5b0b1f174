import { type LockOutcome, outcomeDetail } from './lock-outcome';

/** What RPC clients receive as the error, and WebSocket clients in the `exception` event (and their ack). */
export interface LockErrorPayload extends Pick<LockOutcome, 'code' | 'message' | 'lock' | 'argument'> {
  status: 'error';
}

/** The shape of Nest's own RPC and WebSocket error payloads (`{ status: 'error', message }`), with the code. */
export function messageAnswer(outcome: LockOutcome): LockErrorPayload {
  return { status: 'error', code: outcome.code, message: outcome.message, ...outcomeDetail(outcome) };
}
