// Runs the listener as a process: starts the app, turns SIGINT/SIGTERM into a graceful stop
// (a second signal forces the exit), and maps failures to the documented exit codes.
import { ListenerApp } from './app.js';
import { ConfigError, type Config } from './config.js';
import { AuthRefusedError } from './mqtt/listener.js';

const STARTUP_ERROR_CODES = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EROFS', 'EADDRINUSE', 'EADDRNOTAVAIL', 'SQLITE_CANTOPEN', 'SQLITE_NOTADB']);

export async function runUntilStopped(config: Config, warnings: readonly string[] = []): Promise<number> {
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let exitCode = 0;
  const app = new ListenerApp(config, {
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
    const e = err as NodeJS.ErrnoException;
    if (e.code && STARTUP_ERROR_CODES.has(e.code)) {
      process.stderr.write(`error: cannot start: ${e.message}\n`);
      return 2;
    }
    throw err;
  }
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const code = await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}
