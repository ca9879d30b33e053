// MQTT shared subscriptions (MQTT 5 §4.8.2, also accepted from 3.1.1 clients by mosquitto 2, EMQX,
// HiveMQ, VerneMQ): every member of a group subscribes to $share/<group>/<filter> and the broker
// hands each message to one member. Messages still carry their real topic, so routing by topic
// downstream does not change.
export function sharedTopics(group: string, filters: readonly string[]): string[] {
  return filters.map((f) => (f.startsWith('$share/') ? f : `$share/${group}/${f}`));
}
