// The sensor list: one row per sensor with its status colour, last values and age, and a
// checkbox that puts it in the charts. Rows are kept by name and updated in place on each poll,
// so focus and selection survive a refresh.
import type { Sensor } from './api.js';
import { el, setText } from './dom.js';
import { formatAge, formatNumber, formatTemp, type TempUnit } from './units.js';

/** Below this, a battery is marked low (the sensors' cells brown out at about 10 %). */
export const LOW_BATTERY_PERCENT = 20;
const LOW_BATTERY_VOLTS = 3.3;

interface Row {
  tr: HTMLTableRowElement;
  box: HTMLInputElement;
  cells: Record<'name' | 'location' | 'status' | 'temp' | 'hum' | 'dew' | 'batt' | 'age', HTMLTableCellElement>;
  statusText: HTMLSpanElement;
  battText: HTMLSpanElement;
  lowMark: HTMLSpanElement;
}

export function isLowBattery(s: Sensor): boolean {
  const p = s.last?.battPercent;
  if (typeof p === 'number') return p < LOW_BATTERY_PERCENT;
  const v = s.last?.battVoltage;
  return typeof v === 'number' && v < LOW_BATTERY_VOLTS;
}

export class SensorList {
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly onToggle: (name: string, selected: boolean) => void,
  ) {}

  /** Rows for exactly these sensors, in this order, showing their values in `unit`. */
  render(sensors: readonly Sensor[], selected: ReadonlySet<string>, unit: TempUnit, secondsSinceFetch: number): void {
    const seen = new Set<string>();
    let previous: HTMLTableRowElement | null = null;
    for (const s of sensors) {
      seen.add(s.name);
      const row = this.rows.get(s.name) ?? this.createRow(s.name);
      this.fill(row, s, selected.has(s.name), unit, secondsSinceFetch);
      const wanted: ChildNode | null = previous ? previous.nextSibling : this.body.firstChild;
      if (wanted !== row.tr) this.body.insertBefore(row.tr, wanted);
      previous = row.tr;
    }
    for (const [name, row] of this.rows) {
      if (seen.has(name)) continue;
      row.tr.remove();
      this.rows.delete(name);
    }
  }

  private createRow(name: string): Row {
    const box = el('input', { type: 'checkbox', 'aria-label': `show ${name} in the charts` });
    box.addEventListener('change', () => this.onToggle(name, box.checked));
    const statusText = el('span', { class: 'status-text' });
    const battText = el('span');
    const lowMark = el('span', { class: 'low-mark', title: 'battery low' }, 'low');
    const td = (cls: string, ...children: Array<Node | string>): HTMLTableCellElement => el('td', { class: cls }, ...children);
    const cells = {
      name: el('th', { scope: 'row', class: 'name' }) as unknown as HTMLTableCellElement,
      location: td('location'),
      status: td('status', el('span', { class: 'dot', 'aria-hidden': 'true' }), statusText),
      temp: td('num temp'),
      hum: td('num hum'),
      dew: td('num dew'),
      batt: td('num batt', battText, lowMark),
      age: td('num age'),
    };
    const tr = el('tr', {}, td('select', box), cells.name, cells.location, cells.status, cells.temp, cells.hum, cells.dew, cells.batt, cells.age);
    tr.dataset['sensor'] = name;
    const row: Row = { tr, box, cells, statusText, battText, lowMark };
    this.rows.set(name, row);
    return row;
  }

  private fill(row: Row, s: Sensor, isSelected: boolean, unit: TempUnit, secondsSinceFetch: number): void {
    const last = s.last;
    row.box.checked = isSelected;
    row.tr.classList.toggle('selected', isSelected);
    row.tr.dataset['status'] = s.status;
    setText(row.cells.name, s.name);
    setText(row.cells.location, s.location ?? '');
    setText(row.statusText, s.status);
    setText(row.cells.temp, formatTemp(last?.temperatureF, unit));
    setText(row.cells.hum, formatNumber(last?.relHumidityPercent, 1, ' %'));
    setText(row.cells.dew, formatTemp(last?.dewPointF, unit));
    const pct = last?.battPercent;
    const volts = last?.battVoltage;
    setText(row.battText, typeof pct === 'number' ? `${pct.toFixed(0)} %` : formatNumber(volts, 2, ' V'));
    row.cells.batt.title = typeof volts === 'number' ? `${volts.toFixed(2)} V` : '';
    const low = isLowBattery(s);
    row.lowMark.hidden = !low;
    row.cells.batt.classList.toggle('low', low);
    setText(row.cells.age, formatAge(s.ageSeconds === null ? null : s.ageSeconds + secondsSinceFetch));
  }
}
