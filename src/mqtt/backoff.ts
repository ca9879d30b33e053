// Reconnect delays: 1 s, doubled each failed attempt, capped at 60 s, with ±20 % jitter so a
// fleet of listeners does not hammer a broker that just came back all at the same instant.
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  jitter?: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 1000;
  const max = options.maxMs ?? 60_000;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const base = Math.min(max, initial * 2 ** Math.max(0, Math.min(attempt, 30)));
  const spread = base * jitter * (random() * 2 - 1);
  return Math.max(1, Math.round(Math.min(max, base + spread)));
}
