// What an availability (connect/disconnect, Last Will) message says, as a pure function of topic
// and payload: Tasmota `tele/<device>/LWT` (Online/Offline), Zigbee2MQTT
// `zigbee2mqtt/<device>/availability` (online/offline, plain or {"state": ...}), ESPHome
// `<node>/status` (online/offline) and Shelly `<id>/online` (true/false). The device name comes
// from the topic, so it matches the sensor name when the firmware uses the same one.

export type AvailabilityState = 'online' | 'offline';

export interface AvailabilityMessage {
  device: string;
  state: AvailabilityState;
}

const STATES: Readonly<Record<string, AvailabilityState>> = {
  online: 'online',
  offline: 'offline',
  true: 'online',
  false: 'offline',
  connected: 'online',
  disconnected: 'offline',
};

function stateOf(payload: string): AvailabilityState | undefined {
  let text = payload.trim();
  if (text.startsWith('{')) {
    try {
      const state = (JSON.parse(text) as { state?: unknown }).state;
      text = typeof state === 'string' ? state : '';
    } catch {
      return undefined;
    }
  }
  return STATES[text.toLowerCase()];
}

function deviceOf(levels: readonly string[]): string {
  const last = levels[levels.length - 1]!;
  // Zigbee2MQTT friendly names may contain '/': everything between the base topic and /availability.
  if (last === 'availability' && levels.length > 2) return levels.slice(1, -1).join('/');
  const before = levels[levels.length - 2] ?? '';
  // Tasmota with a custom full topic `%topic%/%prefix%/`: <device>/tele/LWT.
  if (last === 'LWT' && before === 'tele' && levels.length > 2) return levels[levels.length - 3]!;
  return before;
}

/** The device and its state, or a reason why this is not an availability message. */
export function parseAvailability(topic: string, payload: Uint8Array): AvailabilityMessage | { reason: string } {
  const levels = topic.split('/');
  if (levels.length < 2) return { reason: 'the topic has no device level (expected e.g. tele/<device>/LWT)' };
  const device = deviceOf(levels);
  if (device === '') return { reason: 'the topic has an empty device level' };
  const text = Buffer.from(payload).toString('utf8');
  const state = stateOf(text);
  if (!state) return { reason: `payload ${JSON.stringify(text.slice(0, 40))} is not online/offline, true/false or {"state": ...}` };
  return { device, state };
}

/** MQTT topic-filter matching (`+` one level, `#` the rest; `$` topics only by explicit filters). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && !filter.startsWith('$')) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
