// What a bench run measures and how much: the quick smoke run (CI) and the full run.

export const SECTIONS = ['sqlite', 'raw', 'ours', 'decode', 'aedes', 'latency', 'idle', 'original', 'backlog', 'scaling', 'growth', 'reads', 'million', 'http', 'page', 'postgres'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Plan {
  mode: 'quick' | 'full';
  /** Sections run when --only is not given. */
  sections: Section[];
  runs: number;
  throughputCount: number;
  /** QoS 2 runs: fewer messages (the QoS 2 handshake with mosquitto is far slower, see README). */
  qos2Count: number;
  sensors: number;
  publishers: number;
  sqliteRows: number;
  oursModes: Array<{ qos: 0 | 1 | 2; durable: boolean }>;
  latencyRates: number[];
  latencySeconds: number;
  idleSeconds: number;
  idleSettleSeconds: number;
  original: { count: number; rate: number; settleMs: number; quietMs: number };
  backlogCount: number;
  scaling: { sensors: number[]; count: number };
  /**
   * Growth and reads beside writes: a cached generated database of `rows` readings of `sensors`
   * sensors (bench/lib/big-db.ts), `count` QoS 1 readings streamed into a copy of it, and into an
   * empty one; the read probes (bench/lib/read-probes.ts) pause `readPauseMs` between reads.
   */
  big: { rows: number; sensors: number; count: number; readPauseMs: number };
  millionCount: number;
  /** Status service: /api/sensors on a database of `rows` readings of `sensors` sensors; retained availability messages. */
  http: { rows: number; sensors: number; availability: number };
  /** Node flags added to the launcher's for a second 10^6 run (README: small machines). */
  smallMachineNodeArgs: string[];
  /** The web page in Chromium: sensors × days of 10-minute readings, cold loads per round. */
  page: { sensors: number; days: number; loads: number };
}

export function plan(quick: boolean, runs: number | undefined): Plan {
  if (quick) {
    // Small counts: this is CI's smoke run (< 1 minute on 2 busy cores), not a measurement.
    return {
      mode: 'quick',
      sections: SECTIONS.filter((s) => s !== 'aedes' && s !== 'million'),
      runs: runs ?? 1,
      throughputCount: 10_000,
      qos2Count: 10_000,
      sensors: 100,
      publishers: 2,
      sqliteRows: 10_000,
      oursModes: [
        { qos: 0, durable: false },
        { qos: 1, durable: false },
        { qos: 2, durable: false },
        { qos: 1, durable: true },
      ],
      latencyRates: [1000, 5000],
      latencySeconds: 1,
      idleSeconds: 2,
      idleSettleSeconds: 0.5,
      original: { count: 600, rate: 5000, settleMs: 3000, quietMs: 700 },
      backlogCount: 10_000,
      scaling: { sensors: [1, 1000], count: 5000 },
      // Not the 10^7 rows of the full run: a small database only keeps the scenarios running.
      big: { rows: 50_000, sensors: 1000, count: 3000, readPauseMs: 500 },
      millionCount: 0,
      http: { rows: 100_000, sensors: 1000, availability: 1000 },
      smallMachineNodeArgs: [],
      page: { sensors: 50, days: 7, loads: 1 },
    };
  }
  return {
    mode: 'full',
    sections: [...SECTIONS],
    runs: runs ?? 3,
    throughputCount: 200_000,
    qos2Count: 50_000,
    sensors: 100,
    publishers: 2,
    sqliteRows: 200_000,
    oursModes: [0, 1, 2].flatMap((qos) => [false, true].map((durable) => ({ qos: qos as 0 | 1 | 2, durable }))),
    latencyRates: [1000, 5000],
    latencySeconds: 10,
    idleSeconds: 20,
    idleSettleSeconds: 10,
    original: { count: 60_000, rate: 5000, settleMs: 150_000, quietMs: 3000 },
    backlogCount: 200_000,
    scaling: { sensors: [1, 10, 100, 1000, 10_000], count: 100_000 },
    big: { rows: 10_000_000, sensors: 1000, count: 200_000, readPauseMs: 500 },
    millionCount: 1_000_000,
    http: { rows: 10_000_000, sensors: 1000, availability: 10_000 },
    // The launcher caps memory itself (src/memory-cap.ts): no second, small-machine 10^6 run.
    smallMachineNodeArgs: [],
    page: { sensors: 50, days: 365, loads: 2 },
  };
}

export interface Target {
  name: string;
  goal: string;
  value: string;
  met: boolean | null;
}

