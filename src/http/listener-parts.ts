// What the status service reads from the running listener: ListenerApp's public parts, named
// structurally so the HTTP side depends on no composition details (and never on the writer's
// connection: it only reads counters and flags).
import type { AvailabilityTracker } from '../availability/availability-tracker.js';
import type { WatchdogAlerts } from '../alerts/watchdog-alerts.js';
import type { Config } from '../config.js';
import type { BrokerAccessCounters } from '../mqtt/broker-access.js';
import type { MqttListener } from '../mqtt/listener.js';
import type { ReadingWriter } from '../store/reading-writer.js';
import type { Watchdog } from '../watchdog.js';

export interface ListenerParts {
  readonly config: Config;
  /** Counters of the sink; `ignored` once the decoders count messages they skip on purpose. */
  readonly activity: { messages: number; readings: number; rejected: number; lastMessageAt: number; ignored?: number };
  readonly mqtt: MqttListener | undefined;
  readonly readingWriter: ReadingWriter | undefined;
  readonly watchdog: Watchdog | undefined;
  readonly watchdogAlerts: WatchdogAlerts | undefined;
  readonly availabilityTracker: AvailabilityTracker | undefined;
  /** The embedded broker (--embedded-broker), for its refusal counters. */
  readonly embeddedBroker: { readonly counters: Readonly<BrokerAccessCounters> } | undefined;
}
