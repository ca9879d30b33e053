// The embedded broker's ACL file (--embedded-broker-acl), in mosquitto's spirit:
//
//   # lines before the first `user` apply to every device user
//   topic read devices/+/config
//   user dashboard
//   topic read ECCTempHum/#
//   user sensor-hall
//   topic write ECCTempHum/hall/#
//
// `topic read F` lets the user subscribe to filters inside F; `topic write F` narrows what the
// user may publish to topics in F (and still only to topics the listener reads); `readwrite` both.
import { ConfigError, readConfigText } from '../config.js';

export interface AclRules {
  read: string[];
  write: string[];
}

export interface Acl {
  /** Rules for every device user (lines before the first `user`). */
  everyone: AclRules;
  users: Map<string, AclRules>;
}

export function parseAcl(text: string, path: string): Acl {
  const acl: Acl = { everyone: { read: [], write: [] }, users: new Map() };
  let current = acl.everyone;
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const where = `ACL file ${path}, line ${i + 1}`;
      const [keyword, ...rest] = line.split(/\s+/);
      if (keyword === 'user') {
        const name = line.slice('user'.length).trim();
        if (name === '') throw new ConfigError(`${where}: "user" needs a user name`);
        current = acl.users.get(name) ?? { read: [], write: [] };
        acl.users.set(name, current);
        return;
      }
      if (keyword !== 'topic') throw new ConfigError(`${where}: expected "user <name>" or "topic read|write|readwrite <filter>", got ${JSON.stringify(keyword)}`);
      let access = 'readwrite';
      let filter = rest.join(' ');
      if (rest.length > 1 && ['read', 'write', 'readwrite'].includes(rest[0]!)) {
        access = rest[0]!;
        filter = rest.slice(1).join(' ');
      }
      if (!validFilter(filter)) throw new ConfigError(`${where}: ${JSON.stringify(filter)} is not a valid MQTT topic filter`);
      if (access !== 'write') current.read.push(filter);
      if (access !== 'read') current.write.push(filter);
    });
  return acl;
}

export function readAcl(path: string): Acl {
  return parseAcl(readConfigText(path, 'ACL file'), path);
}

function validFilter(f: string): boolean {
  if (f === '' || f.includes('\0')) return false;
  const parts = f.split('/');
  return parts.every((p, i) => (p.includes('#') ? p === '#' && i === parts.length - 1 : !p.includes('+') || p === '+'));
}
