// The socket to the broker, built for MQTT.js at every (re)connect. MQTT.js's own TCP builder
// drops a custom `lookup`; this one passes it on (TCP and TLS alike), so the name is looked up
// anew at every attempt — a broker name that does not resolve at boot is retried until it does —
// and a test can hand in a resolver that fails first and answers later.
import { createConnection, isIP, type LookupFunction } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { StreamBuilder } from 'mqtt';

export interface BrokerConnectionOptions {
  host: string;
  port: number;
  tls: boolean;
  /** CA certificate(s) (PEM) for TLS. */
  ca?: Buffer;
  rejectUnauthorized: boolean;
  /** Name resolution (default: the system's, as dns.lookup). */
  lookup?: LookupFunction;
}

export function brokerStreamBuilder(o: BrokerConnectionOptions): StreamBuilder {
  return (client) => {
    const lookup = o.lookup ? { lookup: o.lookup } : {};
    if (!o.tls) return createConnection({ host: o.host, port: o.port, ...lookup });
    const socket = tlsConnect({
      host: o.host,
      port: o.port,
      // SNI and certificate checks use the name, never an address the lookup returned.
      ...(isIP(o.host) === 0 ? { servername: o.host } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
      rejectUnauthorized: o.rejectUnauthorized,
      ...lookup,
    });
    // As MQTT.js's TLS builder: a handshake failure reaches the client's 'error' listeners.
    const onError = (err: Error): void => {
      client.emit('error', err);
      socket.end();
    };
    socket.on('error', onError);
    socket.once('secureConnect', () => socket.off('error', onError));
    return socket;
  };
}

/** Name-resolution failures: the host does not exist (yet) or the resolver cannot answer now. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

export function isNameResolutionError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && DNS_CODES.has(code);
}
