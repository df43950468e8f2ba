/**
 * The CLI's flag parser: `--name value`, `--name=value` and boolean `--flag`, checked against a
 * declared table so that a typo is an error naming the flag, never silently ignored.
 * @module
 */
import { WasmgradError } from '../errors.js';

/** A command-line mistake: printed with the usage hint, exit code 2. */
export class UsageError extends WasmgradError {
  override readonly name: string = 'UsageError';
}

/** What a flag takes: a string, a number (checked), or nothing (a boolean switch). */
export type FlagKind = 'string' | 'number' | 'boolean';

/** One declared flag. */
export interface FlagSpec {
  kind: FlagKind;
  /** One line for --help. */
  help: string;
  /** Shown in --help; used when the flag is absent. */
  default?: string | number | boolean;
  /** For numbers: must be an integer ≥ this. */
  minInt?: number;
  /** For numbers: must be > 0. */
  positive?: boolean;
}

/** Parsed flags plus the positional arguments. */
export interface Parsed {
  flags: Record<string, string | number | boolean | undefined>;
  positionals: string[];
}

/** Parses `argv` (without the command name) against `specs`. */
export function parseFlags(command: string, argv: readonly string[], specs: Record<string, FlagSpec>): Parsed {
  const flags: Parsed['flags'] = Object.create(null);
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!Object.hasOwn(specs, name)) {
      throw new UsageError(
        command,
        `unknown flag --${name}; known: ${Object.keys(specs)
          .map((s) => `--${s}`)
          .join(', ')}`,
      );
    }
    const spec = specs[name] as FlagSpec;
    if (spec.kind === 'boolean') {
      if (eq >= 0) throw new UsageError(command, `--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      raw = argv[i + 1];
      i++;
    }
    if (raw === undefined || (eq < 0 && raw.startsWith('--'))) {
      throw new UsageError(command, `--${name} needs a value`);
    }
    flags[name] = spec.kind === 'number' ? parseNumber(command, name, raw, spec) : raw;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
  }
  return { flags, positionals };
}

function parseNumber(command: string, name: string, raw: string, spec: FlagSpec): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(command, `--${name} must be a number, got '${raw}'`);
  }
  if (spec.minInt !== undefined && (!Number.isSafeInteger(value) || value < spec.minInt)) {
    throw new UsageError(command, `--${name} must be an integer ≥ ${spec.minInt}, got ${raw}`);
  }
  if (spec.positive && !(value > 0)) throw new UsageError(command, `--${name} must be > 0, got ${raw}`);
  return value;
}

/** The --help block for a flag table. */
export function flagHelp(specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `  --${name}${s.kind === 'boolean' ? '' : ` <${s.kind === 'number' ? 'n' : 'value'}>`}`;
    const def = s.default !== undefined && s.kind !== 'boolean' ? ` (default ${s.default})` : '';
    return [left, `${s.help}${def}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => l.padEnd(width) + r).join('\n');
}
