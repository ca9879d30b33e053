// MQTT topic filter arithmetic for the embedded broker's access rules: does a topic match a
// filter, does one filter cover every topic of another, can two filters match a common topic.
// `+` is one level, `#` the rest (including the parent: `a/#` matches `a`); a wildcard at the
// first level never matches a `$` topic (MQTT 3.1.1, 4.7.2).

const levels = (s: string): string[] => s.split('/');

export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = levels(filter);
  const t = levels(topic);
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when every topic that `filter` matches is also matched by `rule`. */
export function filterCovers(rule: string, filter: string): boolean {
  if (filter.startsWith('$') !== rule.startsWith('$') && (rule.startsWith('+') || rule.startsWith('#'))) return false;
  const r = levels(rule);
  const f = levels(filter);
  for (let i = 0; i < r.length; i++) {
    if (r[i] === '#') return true;
    if (i >= f.length) return false;
    if (f[i] === '#') return false; // the rest of the tree, the rule only a part of it
    if (r[i] === '+') continue;
    if (f[i] === '+' || r[i] !== f[i]) return false;
  }
  return r.length === f.length;
}

/** True when some topic matches both filters. */
export function filtersOverlap(a: string, b: string): boolean {
  const x = levels(a);
  const y = levels(b);
  for (let i = 0; ; i++) {
    if (x[i] === '#' || y[i] === '#') return true;
    if (i >= x.length || i >= y.length) return x.length === y.length || x[i] === '#' || y[i] === '#';
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
  }
}
