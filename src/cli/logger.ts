/**
 * The production logger: pino, JSON lines on stdout. Written synchronously so that the lines of a
 * shutdown or a fatal error are out before the process exits.
 */
import { pino } from 'pino';
import type { LogLevel } from '../config/schema.js';
import type { Logger } from '../util/logger.js';

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'blazemq', level }, pino.destination({ dest: 1, sync: true }));
}
