// The one way bench children connect to the bench's broker: loopback, clean session, MQTT 3.1.1,
// no reconnects (a lost connection fails the scenario instead of hiding in its figures).
import mqtt, { type MqttClient } from 'mqtt';

export function connectBench(port: number, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    clientId,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    protocolVersion: 4,
  });
}
