/**
 * Reading a configuration: file (JSON or YAML) -> validation with defaults -> command-line overrides.
 * Every failure is one BlazeError CONFIG line; the CLI prints it and exits 2.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configError } from './fields.js';
import {
  type BlazeConfig,
  configSchema,
  parseDataDir,
  parseHost,
  parseLogLevel,
  parsePort,
} from './schema.js';

/** Command-line flags as typed by the user (strings); they win over the file. */
export interface FlagOverrides {
  data?: string;
  host?: string;
  stomp?: string;
  http?: string;
  mqtt?: string;
  native?: string;
  nativeTls?: string;
  stompTls?: string;
  mqttTls?: string;
  logLevel?: string;
}

/** Validates an already-parsed document (the top-level object of a file) and fills defaults. */
export function parseConfig(document: unknown): BlazeConfig {
  // An empty YAML file parses to null: it means "all defaults".
  return configSchema.parse(document ?? {}, '');
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0]!.trim();
}

export function parseConfigText(text: string, file: string): BlazeConfig {
  let document: unknown;
  try {
    // YAML is a superset of JSON, but JSON.parse gives better positions for .json files.
    document = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw configError(file, `cannot parse: ${firstLine((err as Error).message)}`);
  }
  return parseConfig(document);
}

export async function loadConfigFile(file: string): Promise<BlazeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw configError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseConfigText(text, file);
}

/** `--stomp 0`, `--stomp off`; anything else is reported as the string it was. */
function portFlag(raw: string, flag: string) {
  return parsePort(/^\d+$/.test(raw) ? Number(raw) : raw, flag);
}

export function applyFlags(config: BlazeConfig, flags: FlagOverrides): BlazeConfig {
  const out: BlazeConfig = { ...config, listeners: { ...config.listeners } };
  if (flags.data !== undefined) out.dataDir = parseDataDir(flags.data, '--data');
  if (flags.host !== undefined) out.host = parseHost(flags.host, '--host');
  if (flags.logLevel !== undefined) out.logLevel = parseLogLevel(flags.logLevel, '--log-level');
  if (flags.stomp !== undefined) out.listeners.stomp = portFlag(flags.stomp, '--stomp');
  if (flags.http !== undefined) out.listeners.http = portFlag(flags.http, '--http');
  if (flags.mqtt !== undefined) out.listeners.mqtt = portFlag(flags.mqtt, '--mqtt');
  if (flags.native !== undefined) out.listeners.native = portFlag(flags.native, '--native');
  if (flags.nativeTls !== undefined) out.listeners.nativeTls = portFlag(flags.nativeTls, '--native-tls');
  if (flags.stompTls !== undefined) out.listeners.stompTls = portFlag(flags.stompTls, '--stomp-tls');
  if (flags.mqttTls !== undefined) out.listeners.mqttTls = portFlag(flags.mqttTls, '--mqtt-tls');
  return out;
}

/** The whole pipeline: defaults <- file (if any) <- flags. */
export async function loadConfig(
  options: { file?: string; flags?: FlagOverrides } = {},
): Promise<BlazeConfig> {
  const base = options.file ? await loadConfigFile(options.file) : parseConfig({});
  return applyFlags(base, options.flags ?? {});
}
