import type { LoggerService } from '@nestjs/common';

export interface LogEntry {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  /** The message, or an Error's stack. */
  text: string;
}

/** A Nest logger that keeps what the app logs, so tests can assert what is (and is not) logged as an error. */
export class CapturedLogger implements LoggerService {
  readonly entries: LogEntry[] = [];

  log = (message: unknown) => this.push('log', message);
  error = (message: unknown) => this.push('error', message);
  warn = (message: unknown) => this.push('warn', message);
  debug = (message: unknown) => this.push('debug', message);
  verbose = (message: unknown) => this.push('verbose', message);
  fatal = (message: unknown) => this.push('fatal', message);

  texts(level: LogEntry['level'], containing = ''): string[] {
    return this.entries.filter((e) => e.level === level && e.text.includes(containing)).map((e) => e.text);
  }

  private push(level: LogEntry['level'], message: unknown): void {
    this.entries.push({ level, text: message instanceof Error ? (message.stack ?? message.message) : String(message) });
  }
}
