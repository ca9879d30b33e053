// Runs the listener as a process: opens the log, starts the app, turns SIGINT/SIGTERM into a
// graceful stop (a second signal forces the exit), maps failures to the documented exit codes,
// and logs an uncaught exception or unhandled rejection with its stack before exiting 1.
import { ListenerApp } from './app.js';
import { ConfigError, type Config } from './config.js';
import { createAppLogger, loggerOptionsFor, type AppLogger } from './logging/logger.js';
import { AuthRefusedError } from './mqtt/listener.js';

const STARTUP_ERROR_CODES = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EROFS', 'EADDRINUSE', 'EADDRNOTAVAIL', 'SQLITE_CANTOPEN', 'SQLITE_NOTADB']);

/** How long a crash waits for the log to be flushed before exiting anyway. */
const CRASH_FLUSH_MS = 3000;

function startupError(err: unknown): number | undefined {
  const e = err as NodeJS.ErrnoException;
  if (e?.code && STARTUP_ERROR_CODES.has(e.code)) {
    process.stderr.write(`error: cannot start: ${e.message}\n`);
    return 2;
  }
  return undefined;
}

/**
 * Logs a crash (with its stack) and exits 1 once the log is flushed. The file is written
 * synchronously and errors also go to stderr, so the line survives even if closing hangs.
 */
function installCrashHandlers(logger: AppLogger): () => void {
  const log = logger.child('app');
  let crashing = false;
  const crash = (what: string, err: unknown): void => {
    if (crashing) return;
    crashing = true;
    const detail = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
    try {
      log.error(`${what}, exiting: ${detail}`);
    } catch {
      process.stderr.write(`${what}, exiting: ${detail}\n`);
    }
    const timer = setTimeout(() => process.exit(1), CRASH_FLUSH_MS);
    void logger.close().finally(() => {
      clearTimeout(timer);
      process.exit(1);
    });
  };
  const onException = (err: Error): void => crash('uncaught exception', err);
  const onRejection = (reason: unknown): void => crash('unhandled promise rejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}

export async function runUntilStopped(config: Config, warnings: readonly string[] = []): Promise<number> {
  let logger: AppLogger;
  try {
    logger = createAppLogger(loggerOptionsFor(config));
  } catch (err) {
    const code = startupError(err);
    if (code !== undefined) return code;
    throw err;
  }
  const uninstall = installCrashHandlers(logger);
  try {
    return await runApp(config, warnings, logger);
  } finally {
    await logger.close();
    uninstall();
  }
}

async function runApp(config: Config, warnings: readonly string[], logger: AppLogger): Promise<number> {
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let exitCode = 0;
  const app = new ListenerApp(config, {
    logger,
    onFatal: (err) => {
      // The logger has already put the error on stderr (errors always go there).
      exitCode = err instanceof AuthRefusedError ? err.exitCode : 3;
      void app.stop().then(() => resolveDone(exitCode));
    },
  });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(1);
    }
    void app.stop().then(() => resolveDone(exitCode));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await app.start();
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    const code = startupError(err);
    if (code !== undefined) return code;
    throw err;
  }
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const code = await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}
