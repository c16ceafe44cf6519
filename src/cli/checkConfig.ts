/**
 * `otel-cluster-exporter check-config [file]`: validates the configuration the
 * runtime would load (the file, else `$OTEL_CLUSTER_EXPORTER_CONFIG`, plus the
 * environment) and prints the effective settings with secrets masked, so a
 * deployment can be checked before it starts serving traffic.
 */
import { ConfigError } from '../config/ConfigError';
import { formatEffectiveConfig, renderConfigReference } from '../config/describeConfig';
import { loadConfig } from '../config/loadConfig';

/** Where `check-config` reads the environment and writes its output. */
export interface CheckConfigIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}

const USAGE = `usage: otel-cluster-exporter check-config [file]
       otel-cluster-exporter check-config --reference

Validates the configuration (file, else $OTEL_CLUSTER_EXPORTER_CONFIG, plus the environment)
and prints the effective settings with secrets masked. --reference prints every key as markdown.
`;

/** Exit status for a command line that cannot be understood (as distinct from a bad configuration). */
const EXIT_USAGE = 2;

/**
 * Runs `check-config`. `args` are the arguments after the sub-command.
 * Returns the exit status: 0 valid, 1 invalid configuration, 2 usage error.
 */
export function runCheckConfig(args: readonly string[], io: CheckConfigIo): number {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(USAGE);
    return 0;
  }
  if (args[0] === '--reference' && args.length === 1) {
    io.stdout(renderConfigReference());
    return 0;
  }
  if (args.length > 1 || (args[0] ?? '').startsWith('-')) {
    io.stderr(`check-config: unexpected arguments: ${args.join(' ')}\n${USAGE}`);
    return EXIT_USAGE;
  }
  return check(args[0], io);
}

function check(file: string | undefined, io: CheckConfigIo): number {
  try {
    const config = loadConfig({ ...(file !== undefined ? { file } : {}), env: io.env });
    const source = config.sourceFile !== undefined ? `file ${config.sourceFile} + environment` : 'defaults + environment (no file)';
    io.stdout(`# configuration is valid (${source}); secrets are masked\n${formatEffectiveConfig(config)}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`invalid configuration: ${error.message}\n`);
    return 1;
  }
}
