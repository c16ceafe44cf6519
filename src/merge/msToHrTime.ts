import type { HrTime } from '@opentelemetry/api';

/**
 * Milliseconds since the epoch to OpenTelemetry [seconds, nanoseconds], with
 * nanoseconds always in [0, 999 999 999]: a fraction that rounds up to a whole
 * second carries into the seconds rather than yielding 1e9 nanoseconds, which
 * exporters reject or misprint. Pure.
 */
export function msToHrTime(ms: number): HrTime {
  let seconds = Math.floor(ms / 1e3);
  // Math.max: a quotient rounded up to a whole number leaves a remainder a hair below 0 (and no -0).
  let nanos = Math.max(0, Math.round((ms - seconds * 1e3) * 1e6));
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}
