/**
 * `blazemq start`: load the configuration, start the broker, report its ports, stop cleanly on
 * SIGTERM/SIGINT (a second signal exits at once).
 */
import { rename, writeFile } from 'node:fs/promises';
import { type RunningBroker, startBroker } from '../broker.js';
import { type FlagOverrides, loadConfig } from '../config/load.js';
import { createLogger } from './logger.js';

export interface StartFlags extends FlagOverrides {
  config?: string;
  /**
   * Written as `{"stomp":N,"mqtt":K,"http":M,"native":P,"nativeTls":Q,...}` (listeners that are on) once every
   * listener is bound (for tests and supervisors).
   */
  portsFile?: string;
}

async function writePortsFile(file: string, ports: RunningBroker['ports']): Promise<void> {
  // Atomic, so that a reader polling for the file never sees half of it.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(ports));
  await rename(tmp, file);
}

export async function runStart(flags: StartFlags): Promise<void> {
  const config = await loadConfig({ file: flags.config, flags });
  const logger = createLogger(config.logLevel);

  // Installed before start-up so that a signal arriving while listeners bind still ends in a clean stop.
  let broker: RunningBroker | undefined;
  let signalled = false;
  const shutdown = (b: RunningBroker) =>
    b.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without finishing shutdown');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    if (broker) void shutdown(broker);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  broker = await startBroker(config, { logger });
  if (signalled) {
    void shutdown(broker);
    return;
  }
  if (flags.portsFile) await writePortsFile(flags.portsFile, broker.ports);
}
