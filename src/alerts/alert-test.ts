// `alert-test`: one test mail with the configured settings, the server's answer printed, so a
// user can check the Gmail credentials before a scheduled task depends on them.
import { hostname } from 'node:os';
import { AlertMailer } from './alert-mailer.js';
import { testAlert } from './alert-text.js';
import { ConfigError, type Config } from '../config.js';
import { silentLogger } from '../logging/types.js';
import { VERSION_LINE } from '../version.js';

export interface AlertTestIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Returns the exit code: 0 sent, 3 refused or unreachable (2 via ConfigError: nothing to send with). */
export async function sendTestAlert(config: Config, io: AlertTestIO): Promise<number> {
  const mail = config.mail;
  if (!mail) {
    throw new ConfigError(
      `mail credentials file ${config.gmailCredentialsFile} does not exist: create it with one line "from_address,app_password,local_host_name_or_None,to_address" or name another with -m`,
    );
  }
  const mailer = new AlertMailer(
    { host: config.smtpHost, port: config.smtpPort, secure: config.smtpSecure, insecure: config.smtpInsecure, credentials: mail },
    silentLogger,
  );
  io.out(`sending a test mail from ${mail.from} to ${mail.to.join(', ')} via ${mailer.server}`);
  try {
    const info = await mailer.sendOnce(testAlert({ host: hostname(), version: VERSION_LINE, server: mailer.server }, Date.now()));
    io.out(`server answered: ${info.response}`);
    if (info.accepted.length > 0) io.out(`accepted: ${info.accepted.join(', ')}`);
    if (info.rejected.length > 0) io.err(`warning: the server refused: ${info.rejected.join(', ')}`);
    return info.accepted.length > 0 ? 0 : 3;
  } catch (err) {
    const e = err as Error & { code?: string };
    io.err(`error: test mail not sent: ${e.message}`);
    if (e.code === 'EAUTH') {
      io.err('hint: check the from address and the password in the mail credentials file; Gmail needs an app password, not the account password');
    }
    return 3;
  } finally {
    mailer.stop();
  }
}
