/**
 * A stored snapshot that cannot be decoded: half-written, written by a foreign
 * program or by an incompatible version of this package.
 *
 * The message names the source (a file path or a store key) and the first
 * thing that was wrong, e.g.
 * `/tmp/m/ocx-worker-0-41-17.json: metrics[2].points[5]: expected 17 bucket counts, got 16`.
 * Readers catch it, count the file as undecodable and leave it out of the
 * merge, so one bad entry never hides the others.
 */
export class SnapshotFormatError extends Error {
  /** Where the text came from (file path, store key). */
  readonly source: string;
  /** Where in the document the problem is (`metrics[2].points[5]`), or empty for the whole text. */
  readonly path: string;

  constructor(source: string, path: string, problem: string) {
    super(`${source}: ${path === '' ? '' : `${path}: `}${problem}`);
    this.name = 'SnapshotFormatError';
    this.source = source;
    this.path = path;
  }
}
