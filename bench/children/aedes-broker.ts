// The second broker column: aedes (as shipped in `--embedded-broker`), in its own process so it
// does not share an event loop with what is measured.
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.js';

async function main(): Promise<void> {
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0 });
  await broker.start();
  process.send?.({ type: 'ready', port: broker.port });
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stop') void broker.stop().then(() => process.disconnect());
  });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
