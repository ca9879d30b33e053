// The mail alert credentials line, in the original's formats: v02.10's
// `from_address,app_password,local_host_name_or_None,to_address` and the older `from,password`.
// Pure parsing: config.ts reads the file and turns a problem into a ConfigError.

export interface MailCredentials {
  from: string;
  /** The (app) password: never logged, masked by check-config. */
  password: string;
  /** Name sent in EHLO; undefined when the file says `None` or leaves it out. */
  localHostName?: string;
  /** One or more recipients (`;`-separated in the file); the sender when not given. */
  to: string[];
}

export type MailCredentialsResult = { ok: true; value: MailCredentials } | { ok: false; reason: string };

const FORMAT = 'expected "from_address,app_password,local_host_name_or_None,to_address" (or "from_address,app_password")';

/** `None` (any case) and empty mean "not set", as in the original's Python. */
function field(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' || v.toLowerCase() === 'none' ? undefined : v;
}

// Deliberately loose: the mail server is the judge of an address; this only catches a swapped
// or missing field (e.g. the password where the address should be).
const looksLikeAddress = (s: string): boolean => /^[^\s@,;]+@[^\s@,;]+$/.test(s);

export function parseMailCredentials(line: string): MailCredentialsResult {
  const parts = line.split(',');
  if (parts.length < 2 || parts.length > 4) {
    return { ok: false, reason: `${FORMAT}; found ${parts.length} field(s)` };
  }
  const from = field(parts[0]);
  const password = parts[1]?.trim() ?? '';
  if (from === undefined) return { ok: false, reason: `the from address (field 1) is empty; ${FORMAT}` };
  // Not echoed: with the fields swapped, this would be the password.
  if (!looksLikeAddress(from)) return { ok: false, reason: `the from address (field 1) is not an e-mail address; ${FORMAT}` };
  if (password === '') return { ok: false, reason: 'the app password (field 2) is empty' };
  const localHostName = field(parts[2]);
  const toField = field(parts[3]);
  const to = toField === undefined ? [from] : toField.split(';').map((t) => t.trim()).filter((t) => t !== '');
  if (to.length === 0) to.push(from);
  const bad = to.find((t) => !looksLikeAddress(t));
  if (bad !== undefined) return { ok: false, reason: `recipient ${JSON.stringify(bad)} (field 4) is not an e-mail address; separate several with ;` };
  if (localHostName !== undefined && !/^[A-Za-z0-9.\-[\]:]+$/.test(localHostName)) {
    return { ok: false, reason: `local host name (field 3) ${JSON.stringify(localHostName)} is not a host name (use None to leave it out)` };
  }
  const value: MailCredentials = { from, password, to };
  if (localHostName !== undefined) value.localHostName = localHostName;
  return { ok: true, value };
}
