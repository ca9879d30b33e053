// The CSV download of what the charts show: every stored reading of the selected sensors in the
// range (not the chart's buckets), in the database's columns, built in the page and saved
// through a Blob, so it needs no other endpoint than the readings API.
import type { Reading } from './api.js';

const COLUMNS = ['sensorName', 'timeUTC', 'temperatureF', 'temperatureC', 'relHumidityPercent', 'dewPointF', 'battVoltage', 'battPercent', 'apRSSI'] as const;

/**
 * A field as RFC 4180 wants it; text that a spreadsheet would run as a formula (=, +, -, @) gets
 * a leading apostrophe, since sensor names come from the devices.
 */
function field(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(bySensor: ReadonlyArray<{ name: string; readings: readonly Reading[] }>): string {
  const lines = [COLUMNS.join(',')];
  for (const { name, readings } of bySensor) {
    for (const r of readings) {
      lines.push([name, r.time, r.temperatureF, r.temperatureC, r.relHumidityPercent, r.dewPointF, r.battVoltage, r.battPercent, r.apRSSI].map(field).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function download(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
