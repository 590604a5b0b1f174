import { type LockTelemetry, NO_TELEMETRY } from './lock-telemetry';
import { OpenTelemetry, type OpenTelemetryApi } from './open-telemetry';

let loaded: LockTelemetry | undefined;

/**
 * The process' telemetry: over `@opentelemetry/api` when the application has it installed (an
 * optional peer dependency), otherwise nothing. Required on first use and only here, so an
 * application without it never loads it. @internal
 */
export function loadTelemetry(): LockTelemetry {
  return (loaded ??= tryOpenTelemetry() ?? NO_TELEMETRY);
}

function tryOpenTelemetry(): LockTelemetry | undefined {
  let api: OpenTelemetryApi;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded only if installed
    api = require('@opentelemetry/api');
  } catch {
    return undefined;
  }
  return new OpenTelemetry(api);
}
