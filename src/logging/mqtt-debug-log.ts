// --mqtt-debug-log: MQTT.js reports its own protocol-level detail through the `debug` package
// (what DEBUG=mqttjs* would print on stderr). This sends that output to a file of its own,
// rotated like the main log, without touching the listener: it switches on the `mqttjs*`
// namespaces of the very `debug` module MQTT.js loads, and points its output at our rotator.
import { createRequire } from 'node:module';
import { format } from 'node:util';
import { LogRotator, type LogRotatorOptions } from './log-rotator.js';

/** The part of the `debug` package (v4) used here. */
interface DebugModule {
  enable(namespaces: string): void;
  disable(): string;
  log: (...args: unknown[]) => unknown;
  inspectOpts: Record<string, unknown>;
}

function mqttDebugModule(): DebugModule {
  // Resolved from MQTT.js's own location, so it is the instance MQTT.js writes to.
  const here = createRequire(import.meta.url);
  return createRequire(here.resolve('mqtt'))('debug') as DebugModule;
}

const ANSI_COLOURS = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex

export class MqttDebugLog {
  private rotator: LogRotator | undefined;
  private restore: (() => void) | undefined;

  constructor(private readonly options: LogRotatorOptions) {}

  get file(): string {
    return this.options.file;
  }

  start(): void {
    if (this.rotator) return;
    const rotator = new LogRotator(this.options);
    rotator.start();
    this.rotator = rotator;
    const debug = mqttDebugModule();
    const previousNamespaces = debug.disable();
    const previousLog = debug.log;
    const hadColours = 'colors' in debug.inspectOpts;
    const previousColours = debug.inspectOpts['colors'];
    // Without colours `debug` prefixes each line with an ISO time and the namespace.
    debug.inspectOpts['colors'] = false;
    debug.log = (...args: unknown[]) => rotator.write(`${format(...args).replace(ANSI_COLOURS, '')}\n`);
    debug.enable('mqttjs*');
    this.restore = () => {
      debug.disable();
      debug.log = previousLog;
      if (hadColours) debug.inspectOpts['colors'] = previousColours;
      else delete debug.inspectOpts['colors'];
      if (previousNamespaces) debug.enable(previousNamespaces);
    };
  }

  /** Reopens the file by name (SIGHUP after an external logrotate moved it). */
  reopen(): void {
    this.rotator?.reopen();
  }

  /** Switches the debug output off again and closes the file. Safe to call more than once. */
  async stop(): Promise<void> {
    this.restore?.();
    this.restore = undefined;
    const r = this.rotator;
    this.rotator = undefined;
    await r?.stop();
  }
}
