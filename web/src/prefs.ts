// What this browser remembers between visits (localStorage): the temperature unit and the
// charted sensors. Storage may be disabled (private windows, policies): then nothing is kept.
import type { TempUnit } from './units.js';

const UNIT_KEY = 'mqtt-iot-listener.unit';
const SENSORS_KEY = 'mqtt-iot-listener.sensors';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage disabled: the choice lasts until the page is closed
  }
}

export function loadUnit(): TempUnit {
  return read(UNIT_KEY) === 'C' ? 'C' : 'F';
}

export function saveUnit(unit: TempUnit): void {
  write(UNIT_KEY, unit);
}

/** The sensors charted last time, or null. */
export function loadSensors(): string[] | null {
  try {
    const list: unknown = JSON.parse(read(SENSORS_KEY) ?? 'null');
    return Array.isArray(list) && list.every((n) => typeof n === 'string') ? list : null;
  } catch {
    return null;
  }
}

export function saveSensors(names: readonly string[]): void {
  write(SENSORS_KEY, JSON.stringify(names));
}
