/**
 * The environment every child process of the tests starts from, when a test gives a child a
 * clean environment of its own: the PATH, and the TMPDIR if one is set. CI runs its two suites
 * (Node 20 and Node 24) side by side, each with a private TMPDIR, so that everything a child puts
 * in the temporary directory (the embedded store's shared default directory, private store
 * directories, heartbeat files) stays with its own suite.
 */
export const CHILD_ENV: Readonly<Record<string, string>> = {
  PATH: process.env.PATH ?? '',
  ...(process.env.TMPDIR !== undefined ? { TMPDIR: process.env.TMPDIR } : {}),
};
