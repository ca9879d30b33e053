// The application logger (winston): one file, ISO time, level and a component tag per line;
// the console gets the same lines on a terminal, and errors always reach stderr when run as a
// service so a scheduled task's own log captures crashes. The file is written through our
// LogRotator (size or daily/hourly rotation, gzip in the background); see log-rotator.ts for why
// not winston's File transport or winston-daily-rotate-file.
import winston from 'winston';
import type TransportStream from 'winston-transport';
import type { Config, LogLevel } from '../config.js';
import { LogRotator, type RotationSchedule } from './log-rotator.js';
import type { Logger } from './types.js';

export interface AppLoggerOptions {
  file: string;
  level: LogLevel;
  /** Mirror every line to stdout (true on a terminal unless --no-console). */
  console: boolean;
  /** -z: bytes that trigger a rotation (default 1 GiB). */
  maxSize?: number;
  /** -a: gzipped archives kept (default 9). */
  maxArchives?: number;
  /** --log-rotate (default size). */
  schedule?: RotationSchedule;
  /** Clock for daily/hourly rotation (tests). */
  now?: () => number;
}

export interface AppLogger {
  root: winston.Logger;
  child(component: string): Logger;
  /** The file's rotator (archive state, whenIdle() for tests). */
  rotator: LogRotator;
  /** Flushes the file transport, closes it and stops the rotator (an unfinished gzip resumes at the next start). */
  close(): Promise<void>;
  /**
   * Reopens the log file by name (SIGHUP): after an external logrotate moved it away, new lines
   * go to a fresh file at the configured path. Lines are written synchronously, so every line
   * logged before the call is already in the old (moved) file.
   */
  reopen(): void;
}

/** Logger options from the configuration (the log file, -z, -a, --log-rotate, --log-level). */
export function loggerOptionsFor(c: Config): AppLoggerOptions {
  return {
    file: c.logFile,
    level: c.logLevel,
    console: c.console,
    maxSize: c.archiveLogSize,
    maxArchives: c.maxLogArchives,
    schedule: c.logRotate,
  };
}

const lineFormat = winston.format.printf((info) => {
  const { timestamp, level, message, component, ...rest } = info as Record<string, unknown> & {
    timestamp: string;
    level: string;
    message: unknown;
  };
  const tag = typeof component === 'string' ? ` [${component}]` : '';
  const extra = Object.keys(rest).filter((k) => typeof k === 'string' && k !== 'splat');
  const meta = extra.length > 0 ? ` ${JSON.stringify(Object.fromEntries(extra.map((k) => [k, rest[k]])))}` : '';
  return `${timestamp} ${level.toUpperCase()}${tag} ${String(message)}${meta}`;
});

// winston's own copy of winston-transport (winston.Transport at run time; the typings name only
// the type), so the transport base class is always the one this winston expects.
const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;
const MESSAGE = Symbol.for('message');

/** A winston transport that hands each formatted line to a LogRotator. */
export class RotatingFileTransport extends Transport {
  constructor(
    private readonly rotator: LogRotator,
    options: TransportStream.TransportStreamOptions = {},
  ) {
    super(options);
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    this.rotator.write(`${String(info[MESSAGE])}\n`);
    next();
  }
}

export function createAppLogger(options: AppLoggerOptions): AppLogger {
  const format = winston.format.combine(winston.format.timestamp(), lineFormat);
  let closed = false;
  let root: winston.Logger | undefined;
  const rotator = new LogRotator({
    file: options.file,
    maxSize: options.maxSize ?? 1073741824,
    maxArchives: options.maxArchives ?? 9,
    schedule: options.schedule ?? 'size',
    ...(options.now ? { now: options.now } : {}),
    onEvent: (level, message) => {
      if (!closed) root?.log(level, message, { component: 'rotate' });
      // winston is closing (it refuses writes after end()): the same line, straight to the file.
      else rotator.write(`${new Date().toISOString()} ${level.toUpperCase()} [rotate] ${message}\n`);
    },
  });
  rotator.start();
  const transports: winston.transport[] = [new RotatingFileTransport(rotator, { format })];
  if (options.console) {
    transports.push(new winston.transports.Console({ format, stderrLevels: ['error'] }));
  } else {
    transports.push(new winston.transports.Console({ format, level: 'error', stderrLevels: ['error'] }));
  }
  root = winston.createLogger({ level: options.level, transports, exitOnError: false });
  const logger = root;
  let closing: Promise<void> | undefined;
  return {
    root: logger,
    rotator,
    child: (component) => logger.child({ component }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        const timer = setTimeout(resolve, 3000);
        logger.on('finish', () => {
          clearTimeout(timer);
          resolve();
        });
        logger.end();
      }).then(() => rotator.stop());
      return closing;
    },
    reopen: () => rotator.reopen(),
  };
}
