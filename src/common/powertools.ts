import type { Logger } from '@aws-lambda-powertools/logger';

/** The narrow logging interface the handlers' plain logic functions take (so tests can pass a fake). */
export interface LogSink {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** A Powertools logger as a LogSink: every line structured JSON with the extra fields merged in. */
export function logSinkOf(logger: Logger): LogSink {
  return {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}
