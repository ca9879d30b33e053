// check-config's look at the host names: a broker name that does not resolve is most likely a
// typo, caught before going live (exit 2). `run` never stops over it: at boot, DNS or the network
// may come later, so the listener retries until the name resolves (see MqttListener).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ConfigError, type Config } from './config.js';

/** The error code when `host` does not resolve (ENOTFOUND, EAI_AGAIN, …), undefined when it does. */
export async function resolveFailure(host: string): Promise<string | undefined> {
  if (isIP(host)) return undefined;
  try {
    await lookup(host);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/**
 * Throws a ConfigError when the broker or PostgreSQL host does not resolve. The mail server is not
 * looked up: alerts are a side job, retried and never fatal, and `alert-test` checks the real thing.
 */
export async function checkHostsResolve(config: Config): Promise<void> {
  if (!config.embeddedBroker) {
    const code = await resolveFailure(config.broker);
    if (code) throw new ConfigError(`broker host ${JSON.stringify(config.broker)} does not resolve (${code}); check -b/--broker`);
  }
  const pgHost = postgresHost(config.postgresUrl);
  if (pgHost !== undefined) {
    const code = await resolveFailure(pgHost);
    if (code) throw new ConfigError(`PostgreSQL host ${JSON.stringify(pgHost)} does not resolve (${code}); check -d/--db`);
  }
}

/** The host of a postgres:// URL; undefined for none, or a Unix socket folder. */
function postgresHost(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const host = decodeURIComponent(new URL(url).hostname).replace(/^\[|\]$/g, '');
    return host === '' || host.startsWith('/') ? undefined : host;
  } catch {
    return undefined;
  }
}
