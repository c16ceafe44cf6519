import { parseArgs } from 'node:util';
import { EXIT, type Command, type CommandIo } from './Command';

/** The command's usage: synopsis, help text. */
export function commandUsage(command: Command): string {
  return `usage: otel-cluster-exporter ${command.synopsis}\n\n${command.help()}\n`;
}

/**
 * Parses `args` for `command` with `node:util.parseArgs` (strict: an unknown
 * option is invalid use, never read as a file name) and runs it.
 */
export function runCommand(command: Command, args: readonly string[], io: CommandIo): number | undefined {
  if (command.rawArguments === true) return command.run({}, args, io);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`${command.name}: ${error instanceof Error ? error.message : String(error)}\n${commandUsage(command)}`);
    return EXIT.usage;
  }
  if (parsed.values['help'] === true) {
    io.stdout(commandUsage(command));
    return EXIT.ok;
  }
  if (parsed.positionals.length > command.maxPositionals) {
    io.stderr(`${command.name}: unexpected arguments: ${parsed.positionals.slice(command.maxPositionals).join(' ')}\n${commandUsage(command)}`);
    return EXIT.usage;
  }
  return command.run(parsed.values, parsed.positionals, io);
}
