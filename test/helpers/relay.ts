// A TCP relay between a client and a broker on 127.0.0.1, for cutting a connection on purpose:
// cut() drops every connection and refuses new ones (the network is gone) until restore(); a
// per-connection tap sees what the client sends and may stop the broker's answers (a half-dead link).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './brokers.js';

export interface ConnectionTap {
  /** Every chunk the client sends (it is passed on to the broker). */
  fromClient?(data: Buffer): void;
  /** False: the broker's bytes are no longer passed to the client. */
  passToClient?(): boolean;
}

export interface TcpRelay {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function tcpRelay(brokerPort: number, tap: () => ConnectionTap = () => ({})): Promise<TcpRelay> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const t = tap();
    const upstream = connect(brokerPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => {
      upstream.write(d);
      t.fromClient?.(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (t.passToClient?.() ?? true) client.write(d);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
