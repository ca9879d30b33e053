// The embedded broker's limits and what counts as "this computer only", shared by its flags and
// the broker itself (kept apart so reading the flags does not load aedes).
export const BROKER_LIMIT_DEFAULTS = {
  /** Concurrent client connections (sensors, the listener itself, tools). */
  maxClients: 500,
  /** Bytes of one MQTT packet from a client; a reading is ~150 bytes. 500 × 64 KiB = 32 MiB at most. */
  maxPacketBytes: 64 * 1024,
} as const;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
