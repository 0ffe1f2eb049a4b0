/**
 * Entry point of the HTTP service: `npm run serve` (local mode) or the container's command in
 * OcrServiceCluster (`node --experimental-strip-types src/service/main.ts`, OCR_MODE=service).
 * SIGTERM/SIGINT: health 503 and no new work at once, in-flight documents finish within
 * OCR_SHUTDOWN_GRACE_SECONDS, the rest are handed back (status PENDING), then exit 0.
 * Exit 1 on a configuration error.
 */
import { startApp, jsonLog } from './app.ts';
import { parseServiceConfig, ServiceConfigError } from './config.ts';

const log = jsonLog();
// logs are best effort: a closed stdout (the log collector gone, EPIPE) must not end the service
process.stdout.on('error', () => undefined);

async function main(): Promise<void> {
  let config;
  try {
    config = parseServiceConfig(process.env);
  } catch (err) {
    if (err instanceof ServiceConfigError) {
      log('error', 'configuration error', { error: err.message });
      process.exit(1);
    }
    throw err;
  }
  for (const warning of config.warnings) log('warn', 'configuration', { warning });
  const app = await startApp(config, { log });
  let signalled = false;
  const onSignal = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    log('warn', `${signal}: draining`, { inFlight: app.service.inFlight, graceSeconds: config.shutdownGraceSeconds });
    app.stop().then(() => process.exit(0), (err: Error) => { log('error', 'shutdown failed', { error: err.message }); process.exit(1); });
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  app.ready.catch((err: Error) => {
    // the engine cannot start: exit so the orchestrator replaces the task
    log('error', 'OCR workers failed to start', { error: err.message });
    process.exit(75);
  });
}

main().catch((err: Error) => {
  log('error', 'service failed to start', { error: err.stack ?? err.message });
  process.exit(75);
});
