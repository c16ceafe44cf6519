/**
 * The human-readable text of anything a `catch` clause or a rejection hands
 * over, for log lines and wrapped error messages.
 *
 * JavaScript lets code throw any value, so a caught `error` is `unknown`: an
 * `Error` contributes its `message`; anything else (a string, a number, a
 * plain object) is converted with `String()`. Never throws for ordinary
 * values, so it is safe inside error paths.
 *
 * @param error the caught value or rejection reason
 * @returns the error's message, or the value converted to a string
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
