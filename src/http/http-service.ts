// The status service as one part of the listener, with start()/stop(): its own database reader
// (SQLite: a read-only connection; PostgreSQL: a small pool beside the writer's connection), every sensor's last reading in memory (LastReadings), the route modules (health, metrics, sensor API) and the server. Other features plug
// in their own routes (addRoutes, e.g. /api/alerts) or a fallback for paths no route knows
// (addFallback, e.g. the web page's static files).
import type { Logger } from '../logging/types.js';
import { sensorApiRoutes } from './api.js';
import { healthRoutes } from './health.js';
import type { HttpConfig } from './http-options.js';
import type { ListenerParts } from './listener-parts.js';
import { LastReadings } from './last-readings.js';
import { ListenerMetrics } from './metrics.js';
import type { Fallback, Route } from './routes.js';
import { PgSensorReader } from './pg-sensor-reader.js';
import { SensorReader } from './sensor-reader.js';
import { StatusServer } from './status-server.js';

export class HttpService {
  private readonly reader: SensorReader | PgSensorReader;
  private readonly metrics: ListenerMetrics;
  private readonly lastReadings = new LastReadings();
  private readonly server: StatusServer;
  private started = false;

  constructor(
    private readonly app: ListenerParts,
    config: HttpConfig,
    log: Logger,
    now: () => number = Date.now,
  ) {
    const pgUrl = app.config.postgresUrl;
    const pgReader = pgUrl !== undefined ? new PgSensorReader({ url: pgUrl, log }) : undefined;
    this.reader = pgReader ?? new SensorReader(app.config.dbFile);
    this.metrics = new ListenerMetrics(app, pgReader ? () => pgReader.cachedBytes() : undefined);
    const tracker = (): ListenerParts['availabilityTracker'] => app.availabilityTracker;
    this.server = new StatusServer({
      host: config.host,
      port: config.port,
      ...(config.auth ? { auth: config.auth } : {}),
      log,
      routes: [
        ...healthRoutes(app, now, pgReader ? () => pgReader.databaseInfo() : undefined),
        ...this.metrics.routes(),
        ...sensorApiRoutes({
          reader: this.reader,
          lastReadings: this.lastReadings,
          availability: (device) => tracker()?.stateOf(device),
          availabilityDevices: () => tracker()?.devices.keys() ?? [],
          staleMs: config.staleMs,
          now,
        }),
      ],
    });
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return this.server.port;
  }

  get url(): string {
    return this.server.url;
  }

  get requestStats(): StatusServer['stats'] {
    return this.server.stats;
  }

  addRoutes(routes: readonly Route[]): void {
    this.server.addRoutes(routes);
  }

  addFallback(fallback: Fallback): void {
    this.server.addFallback(fallback);
  }

  /** Opens the read-only connection (the database must exist) and starts serving. */
  async start(): Promise<void> {
    if (this.started) return;
    this.reader.open();
    if (this.reader instanceof SensorReader) {
      // Seeded and attached in one synchronous step: no commit can fall between the two.
      this.lastReadings.seed(this.reader.everyLastReading());
      this.app.readingWriter?.commitObservers.push(this.lastReadings.observe, this.metrics.observe);
    } else {
      // PostgreSQL answers later: readings committed meanwhile are noted by the observer and kept
      // by seed (which never moves a sensor's last reading back in time).
      this.app.readingWriter?.commitObservers.push(this.lastReadings.observe, this.metrics.observe);
      try {
        this.lastReadings.seed(await this.reader.everyLastReading(), true);
      } catch (err) {
        this.detach();
        await this.reader.close();
        throw err;
      }
    }
    try {
      await this.server.start();
    } catch (err) {
      this.detach();
      await this.reader.close();
      throw err;
    }
    this.started = true;
  }

  /** Idempotent. */
  async stop(): Promise<void> {
    await this.server.stop();
    this.detach();
    await this.reader.close();
    this.started = false;
  }

  private detach(): void {
    const observers = this.app.readingWriter?.commitObservers;
    for (const observe of [this.lastReadings.observe, this.metrics.observe]) {
      const at = observers ? observers.indexOf(observe) : -1;
      if (at >= 0) observers!.splice(at, 1);
    }
  }
}
