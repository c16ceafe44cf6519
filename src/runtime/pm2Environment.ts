/**
 * PM2 in cluster mode hands each instance its app's `env` block, and its
 * `NODE_APP_INSTANCE`, packed as JSON in the `pm2_env` variable, and unpacks
 * it into `process.env` only after `--require` preloads have run. Without
 * this, a preloaded exporter would miss the user's settings and the stable
 * instance number PM2 gives every slot.
 *
 * Returns the environment with pm2_env's plain string and number values
 * underneath the real environment (a variable that is really set wins).
 */
export function withPm2Environment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const packed = env.pm2_env;
  if (!packed) return env;
  let parsed: unknown;
  try {
    parsed = JSON.parse(packed);
  } catch {
    return env; // not PM2's JSON: leave the environment as it is
  }
  if (typeof parsed !== 'object' || parsed === null) return env;
  const unpacked: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string' || typeof value === 'number') unpacked[name] = String(value);
  }
  return { ...unpacked, ...env };
}

/**
 * The error log PM2 keeps for this instance (what `pm2 logs <app>` shows), or
 * undefined outside PM2. A preload that stops the process runs before PM2's
 * process container captures stderr, so its message would land only in the
 * daemon's own log; it is written here as well.
 */
export function pm2ErrorLogPath(env: NodeJS.ProcessEnv): string | undefined {
  const path = withPm2Environment(env).pm_err_log_path;
  return path !== undefined && path !== '' ? path : undefined;
}
