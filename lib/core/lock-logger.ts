/**
 * What the engine and the stores log through: a subset of Nest's `Logger`, so they stay
 * framework-free and the Nest glue passes its own logger in.
 */
export interface LockLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}
