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

/**
 * Whether reconnect attempt `attempt` (1-based) gets a log line: every one while the delay still
 * grows, then every 10th (said in the line), as the commit-retry lines do.
 */
export function reconnectLogged(attempt: number, options: BackoffOptions = {}): boolean | 'every-10th' {
  const initial = options.initialMs ?? 1000;
  const max = options.maxMs ?? 60_000;
  const growing = Math.ceil(Math.log2(Math.max(1, max / initial))) + 1;
  if (attempt <= growing) return true;
  return attempt % 10 === 0 ? 'every-10th' : false;
}
