/**
 * Redis' answer to a command sent while its connection is inside a transaction: a user's client
 * shared with the lock, after `multi({ pipeline: false })`. The command has not run, and runs only
 * if the user's EXEC comes, in the middle of their transaction. No call of ours ever has this
 * reply otherwise (scripts answer numbers or arrays; EXISTS, WAIT, INFO and QUIT never say it),
 * so reading it as a fence, a count or a verdict would be a lie: it is a store failure.
 */
export const QUEUED_REPLY = 'QUEUED';
