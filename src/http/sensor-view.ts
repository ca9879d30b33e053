// One sensor as the API shows it: its status (online / stale / offline / never seen), its last
// reading (NULL values stay null; temperatureC computed from °F) and its availability. Status:
// "offline" when its availability topic last said so; otherwise "online" with a reading within
// --stale (or, without readings, when its availability topic says online), "stale" with an older
// one, "never seen" with neither.
import type { DeviceAvailability } from '../availability/availability-tracker.js';
import { parseMicrosUTC } from '../store/time.js';
import type { LastSeen } from './last-readings.js';

export type SensorStatusWord = 'online' | 'stale' | 'offline' | 'never seen';

export interface SensorView {
  name: string;
  location: string | null;
  status: SensorStatusWord;
  lastSeenUTC: string | null;
  ageSeconds: number | null;
  last: {
    temperatureF: number | null;
    temperatureC: number | null;
    relHumidityPercent: number | null;
    dewPointF: number | null;
    battVoltage: number | null;
    battPercent: number | null;
    apRSSI: number | null;
  } | null;
  availability: { state: 'online' | 'offline'; sinceUTC: string; topic: string } | null;
}

/** Stored `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) → ISO 8601 with Z (milliseconds); null if unreadable. */
export function isoFromStored(text: string): string | null {
  const micros = parseMicrosUTC(text);
  return Number.isNaN(micros) ? null : new Date(Math.floor(micros / 1000)).toISOString();
}

export function celsius(fahrenheit: number | null): number | null {
  return fahrenheit === null || fahrenheit === undefined ? null : Math.round(((fahrenheit - 32) * 5 / 9) * 100) / 100;
}

export function sensorView(
  name: string,
  seen: LastSeen | undefined,
  availability: DeviceAvailability | undefined,
  nowMs: number,
  staleMs: number,
): SensorView {
  const last = seen?.values;
  const lastMs = seen === undefined || Number.isNaN(seen.micros) ? undefined : Math.floor(seen.micros / 1000);
  const ageMs = lastMs === undefined ? undefined : Math.max(0, nowMs - lastMs);
  let status: SensorStatusWord;
  if (availability?.state === 'offline') status = 'offline';
  else if (ageMs !== undefined) status = ageMs <= staleMs ? 'online' : 'stale';
  else status = availability?.state === 'online' ? 'online' : 'never seen';
  return {
    name,
    location: seen?.location ?? null,
    status,
    lastSeenUTC: lastMs === undefined ? null : new Date(lastMs).toISOString(),
    ageSeconds: ageMs === undefined ? null : Math.round(ageMs / 1000),
    last: last
      ? {
          temperatureF: last.temperatureF,
          temperatureC: celsius(last.temperatureF),
          relHumidityPercent: last.relHumidityPercent,
          dewPointF: last.dewPointF,
          battVoltage: last.battVoltage,
          battPercent: last.battPercent,
          apRSSI: last.apRSSI,
        }
      : null,
    availability: availability
      ? { state: availability.state, sinceUTC: isoFromStored(availability.changedUTC) ?? availability.changedUTC, topic: availability.topic }
      : null,
  };
}
