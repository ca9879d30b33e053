// The application logger (winston): one file, ISO time, level and a component tag per line;
// the console gets the same lines on a terminal, and errors always reach stderr when run as a
// service so a scheduled task's own log captures crashes.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import winston from 'winston';
import type { LogLevel } from '../config.js';
import type { Logger } from './types.js';

export interface AppLoggerOptions {
  file: string;
  level: LogLevel;
  /** Mirror every line to stdout (true on a terminal unless --no-console). */
  console: boolean;
}

export interface AppLogger {
  root: winston.Logger;
  child(component: string): Logger;
  /** Flushes the file transport and closes it. */
  close(): Promise<void>;
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

export function createAppLogger(options: AppLoggerOptions): AppLogger {
  mkdirSync(dirname(options.file), { recursive: true });
  const format = winston.format.combine(winston.format.timestamp(), lineFormat);
  const transports: winston.transport[] = [new winston.transports.File({ filename: options.file, format })];
  if (options.console) {
    transports.push(new winston.transports.Console({ format, stderrLevels: ['error'] }));
  } else {
    transports.push(new winston.transports.Console({ format, level: 'error', stderrLevels: ['error'] }));
  }
  const root = winston.createLogger({ level: options.level, transports, exitOnError: false });
  return {
    root,
    child: (component) => root.child({ component }),
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        root.on('finish', () => {
          clearTimeout(timer);
          resolve();
        });
        root.end();
      }),
  };
}
