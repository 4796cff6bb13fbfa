/** A Logger that keeps every line (level, object, message) for a test to look at. */
import type { Logger } from '../../src/util/logger.js';

export interface LogLine {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

/** Lines go to `lines` (also on the returned logger); children log to the same list. */
export function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      lines.push({ level, obj, msg: typeof obj === 'string' ? obj : msg });
    };
  const log = {
    lines,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: () => log,
  };
  return log;
}
