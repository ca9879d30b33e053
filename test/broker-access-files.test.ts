// The embedded broker's rule files and topic arithmetic, table-tested; hash-password through the
// real launcher (password on standard input, never on the command line).
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { parseAcl } from '../src/mqtt/broker-acl.js';
import { readBrokerUsers, verifyPassword } from '../src/mqtt/broker-users.js';
import { filterCovers, filtersOverlap, topicMatches } from '../src/mqtt/topic-filters.js';
import { BIN } from './helpers/service.js';
import { tempDir } from './helpers/util.js';

describe('topic filters', () => {
  it.each([
    ['ECCTempHum', 'ECCTempHum', true],
    ['ECCTempHum', 'ECCTempHum/x', false],
    ['ECCTempHum/#', 'ECCTempHum', true],
    ['ECCTempHum/#', 'ECCTempHum/a/b', true],
    ['ECCTempHum/+', 'ECCTempHum/a', true],
    ['ECCTempHum/+', 'ECCTempHum/a/b', false],
    ['#', '$SYS/broker/uptime', false],
    ['+/x', 'a/x', true],
  ])('%s matches %s: %s', (filter, topic, expected) => expect(topicMatches(filter, topic)).toBe(expected));

  it.each([
    ['#', 'anything/+/x', true],
    ['devices/+/config', 'devices/hall/config', true],
    ['devices/+/config', 'devices/+/config', true],
    ['devices/+/config', 'devices/#', false],
    ['devices/hall/config', 'devices/+/config', false],
    ['ECCTempHum', '#', false],
    ['a/#', 'a', true],
    ['#', '$SYS/#', false],
  ])('rule %s covers filter %s: %s', (rule, filter, expected) => expect(filterCovers(rule, filter)).toBe(expected));

  it.each([
    ['ECCTempHum', '#', true],
    ['ECCTempHum', '+', true],
    ['ECCTempHum', 'ECCTempHum/+', false],
    ['ECCTempHum/#', 'ECCTempHum', true],
    ['ECCTempHum', 'lights/hall', false],
    ['a/+/c', 'a/b/+', true],
  ])('%s and %s overlap: %s', (a, b, expected) => {
    expect(filtersOverlap(a, b)).toBe(expected);
    expect(filtersOverlap(b, a)).toBe(expected);
  });
});

describe('users file', () => {
  const write = (text: string): string => {
    const f = join(tempDir('users-'), 'users.txt');
    writeFileSync(f, text);
    chmodSync(f, 0o600);
    return f;
  };

  it('reads user:password lines, skipping comments and blanks; a colon may be in the password', () => {
    const users = readBrokerUsers(write('# sensors\n\n hall : pw:with:colons \r\nattic:x\n'));
    expect(users).toEqual([{ name: 'hall', secret: 'pw:with:colons' }, { name: 'attic', secret: 'x' }]);
  });

  it.each([
    ['hall-no-colon\n', /no colon/],
    [':pw\n', /user name before the colon is empty/],
    ['hall:\n', /empty password/],
    ['hall:a\nhall:b\n', /appears twice/],
    ['hall:$scrypt$broken\n', /malformed \$scrypt\$ hash/],
    ['hall:$scrypt$ln=40,r=8,p=1$GFwr9t8xswF/OADozapFhw$D/JxghpJ20XFqnIGiS/sxThLk8XRSMGK2hsR6RqvJ3o\n', /malformed \$scrypt\$ hash/],
    ['# nobody\n', /names no user/],
  ])('%j is a ConfigError naming what to fix', (text, reason) => {
    expect(() => readBrokerUsers(write(text))).toThrow(ConfigError);
    expect(() => readBrokerUsers(write(text))).toThrow(reason);
  });

  it('a secret is never part of an error', () => {
    expect(() => readBrokerUsers(write('hall:$scrypt$Top-Secret-1\n'))).not.toThrow(/Top-Secret-1/);
  });
});

describe('ACL file', () => {
  it('reads user and topic read|write|readwrite lines; lines before the first user apply to every device', () => {
    const acl = parseAcl('# all\ntopic read devices/+/config\nuser dashboard\ntopic read ECCTempHum/#\nuser hall\ntopic write ECCTempHum/hall\ntopic devices/hall/#\n', 'acl');
    expect(acl.everyone).toEqual({ read: ['devices/+/config'], write: [] });
    expect(acl.users.get('dashboard')).toEqual({ read: ['ECCTempHum/#'], write: [] });
    expect(acl.users.get('hall')).toEqual({ read: ['devices/hall/#'], write: ['ECCTempHum/hall', 'devices/hall/#'] });
  });

  it.each([
    ['pattern read x\n', /line 1: expected "user <name>" or "topic/],
    ['user\n', /line 1: "user" needs a user name/],
    ['user a\ntopic read a/#/b\n', /line 2: "a\/#\/b" is not a valid MQTT topic filter/],
  ])('%j is a ConfigError with the line', (text, reason) => {
    expect(() => parseAcl(text, 'acl')).toThrow(reason);
  });
});

describe('hash-password', () => {
  it('reads the password from standard input and prints a users-file line that verifies', async () => {
    const r = spawnSync(process.execPath, [BIN, 'hash-password', 'sensor-hall'], { input: 'Pipe-Pw-31\n', encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    const line = r.stdout.trim();
    expect(line).toMatch(/^sensor-hall:\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(line).not.toContain('Pipe-Pw-31');
    const secret = line.slice('sensor-hall:'.length);
    expect(await verifyPassword(Buffer.from('Pipe-Pw-31'), secret)).toBe(true);
    expect(await verifyPassword(Buffer.from('Pipe-Pw-32'), secret)).toBe(false);
    // Same password, new salt: a different hash.
    const again = spawnSync(process.execPath, [BIN, 'hash-password'], { input: 'Pipe-Pw-31', encoding: 'utf8', timeout: 20_000 });
    expect(again.stdout.trim()).toMatch(/^\$scrypt\$/);
    expect(again.stdout.trim()).not.toBe(secret);
  });

  it('an empty password is refused with exit 2', () => {
    const r = spawnSync(process.execPath, [BIN, 'hash-password', 'x'], { input: '\n', encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: hash-password: the password is empty/);
  });
});
