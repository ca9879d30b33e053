// Runs the listener as a process, the way a service manager expects: one instance per database
// (`<db>.lock`), then the log is opened and the app started; SIGTERM/SIGINT (and on Windows
// Ctrl+Break / closing the console) → graceful stop within a deadline, a second signal forces the
// exit, SIGHUP → reopen the log and re-read the credentials; an uncaught exception or unhandled
// rejection is logged with its stack before exiting 1; every failure is mapped to the documented
// exit codes (see EXIT_CODES_HELP).
import { ListenerApp } from './app.js';
import { ConfigError, type Config } from './config.js';
import { InstanceLock, InstanceLockedError } from './instance-lock.js';
import { createAppLogger, loggerOptionsFor, type AppLogger } from './logging/logger.js';
import { AuthRefusedError } from './mqtt/listener.js';

const STARTUP_ERROR_CODES = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EROFS', 'EADDRINUSE', 'EADDRNOTAVAIL', 'SQLITE_CANTOPEN', 'SQLITE_NOTADB']);

/** A stop that takes longer (hung disk or network share) ends the process anyway. */
export const STOP_DEADLINE_MS = 5000;

/** How long a crash waits for the log to be flushed before exiting anyway. */
const CRASH_FLUSH_MS = 3000;

/**
 * Signals that mean "stop". Windows has no SIGTERM: Node maps Ctrl+C to SIGINT, Ctrl+Break to
 * SIGBREAK and closing the console window to SIGHUP (Windows ends the process ~10 s later).
 * Ending a scheduled task kills the process outright, with no signal at all: nothing is lost
 * then either, since only committed readings were acknowledged and the broker redelivers the rest.
 */
export function stopSignals(platform: NodeJS.Platform = process.platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP'] : ['SIGINT', 'SIGTERM'];
}

/** SIGHUP means "reload" on POSIX (logrotate's postrotate, `systemctl reload`). */
export function reloadSignals(platform: NodeJS.Platform = process.platform): NodeJS.Signals[] {
  return platform === 'win32' ? [] : ['SIGHUP'];
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The exit code for an error thrown while starting; rethrows programming errors (exit 1). */
function startupFailure(err: unknown): number {
  if (err instanceof InstanceLockedError) {
    say(`error: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    say(`error: ${err.message}`);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code && STARTUP_ERROR_CODES.has(e.code)) {
    say(`error: cannot start: ${e.message}`);
    return 2;
  }
  throw err;
}

/**
 * Logs a crash (with its stack) and exits 1 once the log is flushed. The file is written
 * synchronously and errors also go to stderr, so the line survives even if closing hangs.
 * The instance lock is released by the process's 'exit' handler.
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
      say(`${what}, exiting: ${detail}`);
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
  // The lock comes before the log: a second instance must not touch the first one's log files
  // (its LogRotator would tidy up and compress them at start-up).
  // With PostgreSQL several listeners share the database by design; two on one log file must not.
  const lock = new InstanceLock(config.postgresUrl !== undefined ? config.logFile : config.dbFile);
  let tookOver: string | undefined;
  try {
    tookOver = lock.acquire().tookOver;
  } catch (err) {
    return startupFailure(err);
  }
  // Also on process.exit() (second signal, deadline) and crashes: synchronous, removes only our lock.
  const releaseLock = (): void => lock.release();
  process.on('exit', releaseLock);
  const unlock = (): void => {
    lock.release();
    process.off('exit', releaseLock);
  };

  let logger: AppLogger;
  try {
    logger = createAppLogger(loggerOptionsFor(config));
  } catch (err) {
    unlock();
    return startupFailure(err);
  }
  const uninstall = installCrashHandlers(logger);
  try {
    return await runApp(config, warnings, logger, tookOver, lock.path);
  } finally {
    await logger.close();
    uninstall();
    unlock();
  }
}

async function runApp(config: Config, warnings: readonly string[], logger: AppLogger, tookOver: string | undefined, lockPath: string): Promise<number> {
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let exitCode = 0;
  let started = false;
  let stopRequested = false;
  let stopFinished = false;

  const app = new ListenerApp(config, {
    logger,
    onFatal: (err) => {
      // The logger has already put the error on stderr (errors always go there).
      requestStop(err instanceof AuthRefusedError ? err.exitCode : 3);
    },
  });

  function requestStop(code: number): void {
    if (stopRequested) return;
    stopRequested = true;
    exitCode = code;
    // Not cleared: if something still holds the event loop after the stop (or closing the log
    // hangs), it ends the process too. Log lines are written synchronously, so none is lost.
    const deadline = setTimeout(() => {
      if (!stopFinished) {
        say(`error: the stop did not finish within ${STOP_DEADLINE_MS / 1000} s; exiting anyway (messages not yet acknowledged are redelivered by the broker)`);
        exitCode = 1;
      }
      process.exit(exitCode);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    app.stop().then(
      () => {
        stopFinished = true;
        resolveDone(exitCode);
      },
      (err: unknown) => {
        say(`error: while stopping: ${(err as Error).message}`);
        stopFinished = true;
        exitCode = 1;
        resolveDone(1);
      },
    );
  }

  let stopSignalsSeen = 0;
  const onStopSignal = (signal: NodeJS.Signals): void => {
    stopSignalsSeen++;
    if (stopSignalsSeen > 1) {
      say(`${signal} again: exiting now without waiting for the stop to finish`);
      process.exit(1);
    }
    if (!started) {
      // Still starting: the stop follows as soon as start() is through, which a wait for the
      // database server at boot must not delay.
      app.cancelStart();
      return;
    }
    app.note('info', `${signal} received: stopping (committing and acknowledging what is queued)`);
    requestStop(0);
  };
  const onReloadSignal = (signal: NodeJS.Signals): void => {
    if (!started || stopRequested) return;
    app.reload().catch((err: unknown) => app.note('error', `${signal}: reload failed: ${(err as Error).message}`));
  };
  for (const s of stopSignals()) process.on(s, onStopSignal);
  for (const s of reloadSignals()) process.on(s, onReloadSignal);
  const removeSignalHandlers = (): void => {
    for (const s of stopSignals()) process.off(s, onStopSignal);
    for (const s of reloadSignals()) process.off(s, onReloadSignal);
  };

  try {
    await app.start();
  } catch (err) {
    removeSignalHandlers();
    return startupFailure(err);
  }
  started = true;
  app.note('info', `holding ${lockPath}${tookOver ? ` (took over ${tookOver})` : ''}`);
  for (const w of warnings) say(`warning: ${w}`);
  if (stopSignalsSeen > 0) {
    app.note('info', 'stop requested while starting: stopping');
    requestStop(0);
  }
  const code = await done;
  removeSignalHandlers();
  return code;
}
