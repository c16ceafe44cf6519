/**
 * Settle like `promise`, or reject once `ms` milliseconds have passed,
 * whichever comes first.
 *
 * The timeout rejects with an `Error` whose message reads
 * `<what> timed out after <ms> ms`. The timer is cleared as soon as `promise`
 * settles and is unref'd, so a pending wait never keeps the process alive.
 * `promise` itself is not cancelled (promises cannot be): it runs on, and a
 * late settlement, including a late rejection, is absorbed here rather than
 * surfacing as an unhandled rejection.
 *
 * @param promise the work to wait for
 * @param ms how long to wait, in milliseconds
 * @param what names the work in the timeout message (`export`, `collect`)
 * @returns `promise`'s value; rejects with `promise`'s reason, or with the timeout error
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller gets the original reason, whatever it is
        reject(error);
      },
    );
  });
}
