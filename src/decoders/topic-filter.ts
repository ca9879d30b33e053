// MQTT topic filter matching (`+` one level, `#` the rest), for routing a message to the format
// of the --topic filter it arrived through. A shared subscription `$share/<group>/<filter>`
// delivers messages with their real topic, so its filter part is what is matched.

export function filterOf(subscription: string): string {
  if (!subscription.startsWith('$share/')) return subscription;
  const slash = subscription.indexOf('/', 7);
  return slash < 0 ? subscription : subscription.slice(slash + 1);
}

/** Splits a filter once, for matching many topics against it. */
export function compileFilter(subscription: string): readonly string[] {
  return filterOf(subscription).split('/');
}

export function topicMatches(filter: readonly string[], topic: string): boolean {
  const levels = topic.split('/');
  // Wildcards at the first level do not match topics starting with `$` (MQTT 3.1.1, 4.7.2).
  if (topic.startsWith('$') && (filter[0] === '+' || filter[0] === '#')) return false;
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i]!;
    if (f === '#') return true;
    if (i >= levels.length) return false;
    if (f !== '+' && f !== levels[i]) return false;
  }
  return levels.length === filter.length;
}

/** Why a topic filter is not valid, or undefined when it is. */
export function filterProblem(filter: string): string | undefined {
  if (filter === '' || filter.includes('\0')) return 'is empty or contains a NUL';
  const levels = filterOf(filter).split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return 'has a # that is not the whole last level';
    if (l.includes('+') && l !== '+') return 'has a + that is not a whole level';
  }
  return undefined;
}
