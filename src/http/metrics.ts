// GET /metrics: Prometheus text from prom-client, on a registry of our own (several listeners in
// one process, as in tests, never collide). Names follow Prometheus' rules: namespace
// mqtt_iot_listener_, counters end in _total, durations in _seconds; no per-sensor labels
// (cardinality). Counters mirror the listener's own totals at scrape time, so the hot path pays
// nothing for them; only the two histograms are fed, once per commit, by the writer's observer hook.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BrokerAccessCounters } from '../mqtt/broker-access.js';
import type { IncomingMessage } from '../store/reading-store.js';
import { nowMicros } from '../store/time.js';
import { databaseBytes } from './health.js';
import type { ListenerParts } from './listener-parts.js';
import type { Route } from './routes.js';

const NS = 'mqtt_iot_listener_';

export class ListenerMetrics {
  readonly registry = new Registry();
  private readonly commitDuration: Histogram;
  private readonly latency: Histogram;

  /** `databaseSize`: bytes the database takes (default: the SQLite file and its WAL). */
  constructor(app: ListenerParts, databaseSize?: () => number) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({
        name: NS + name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(Math.max(0, read()));
        },
      });
    };
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name: NS + name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    };
    const w = () => app.readingWriter?.totals;
    counter('messages_received_total', 'MQTT messages received (readings, rejected, retained, availability)', () => app.activity.messages);
    counter('readings_stored_total', 'readings committed to the database', () => w()?.stored ?? 0);
    counter('messages_rejected_total', 'messages that could not be decoded (kept in rejected_messages)', () => w()?.rejected ?? 0);
    counter('messages_ignored_total', 'messages skipped on purpose by the decoders', () => app.activity.ignored ?? 0);
    counter('duplicates_skipped_total', 'QoS 1/2 redeliveries of messages already stored (acknowledged only)', () => w()?.duplicates ?? 0);
    counter('commits_total', 'database transactions committed', () => w()?.commits ?? 0);
    counter('commit_failures_total', 'commits that failed and were retried (disk full, locked)', () => w()?.failedCommits ?? 0);
    counter('mqtt_reconnects_total', 'MQTT connections made after the first', () => (app.mqtt?.stats.connects ?? 0) - 1);
    counter('watchdog_restarts_total', 'in-process MQTT restarts by the watchdog (no message for a period)', () => app.watchdog?.stats.restarts ?? 0);
    counter('alerts_sent_total', 'alert mails sent', () => app.watchdogAlerts?.stats.sent ?? 0);
    counter('availability_changes_total', 'device availability changes stored', () => app.availabilityTracker?.stats.changes ?? 0);
    gauge('pending_messages', 'messages received and not yet committed (so not yet acknowledged)', () => app.readingWriter?.pending ?? 0);
    gauge('mqtt_connected', '1 while connected to the broker', () => (app.mqtt?.connected ? 1 : 0));
    gauge('database_bytes', 'database size (SQLite: main file + WAL on disk; PostgreSQL: pg_database_size, last asked)', databaseSize ?? (() => databaseBytes(app.config.dbFile)));
    // The embedded broker's refusals, one series per kind (a fixed set of five label values).
    const refusals: Array<[string, keyof BrokerAccessCounters]> = [
      ['login', 'refusedLogins'],
      ['publish', 'refusedPublishes'],
      ['subscribe', 'refusedSubscriptions'],
      ['connection_limit', 'refusedConnections'],
      ['oversized_packet', 'oversizedPackets'],
    ];
    new Counter({
      name: `${NS}embedded_broker_refused_total`,
      help: 'what the embedded broker refused: logins, publishes and subscriptions not allowed, connections over the limit, oversized packets',
      labelNames: ['what'],
      registers: [r],
      collect() {
        this.reset();
        const c = app.embeddedBroker?.counters;
        if (!c) return;
        for (const [what, key] of refusals) this.inc({ what }, c[key]);
      },
    });
    this.commitDuration = new Histogram({
      name: `${NS}commit_duration_seconds`,
      help: 'duration of one database commit (a batch of messages)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [r],
    });
    this.latency = new Histogram({
      name: `${NS}receipt_to_commit_seconds`,
      help: 'time from receiving a message to committing it (its acknowledgement follows at once)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
  }

  /** A commit observer for the writer (ReadingWriter.commitObservers): feeds the two histograms. */
  readonly observe = (ms: number, items: readonly IncomingMessage[]): void => {
    this.commitDuration.observe(ms / 1000);
    const now = nowMicros();
    for (const item of items) this.latency.observe(Math.max(0, now - item.receivedMicros) / 1e6);
  };

  routes(): Route[] {
    return [
      {
        method: 'GET',
        path: '/metrics',
        handle: async ({ res }) => {
          const text = await this.registry.metrics();
          res.writeHead(200, { 'Content-Type': this.registry.contentType, 'Cache-Control': 'no-store' });
          res.end(text);
        },
      },
    ];
  }
}
