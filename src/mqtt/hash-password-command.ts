// `hash-password [user]`: prints a line for the embedded broker's users file with a scrypt hash
// instead of the password. The password is read from standard input (first line) or, on a
// terminal, from a prompt that does not echo it — never from the command line, where `ps` and
// shell history would keep it.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { ConfigError } from '../config.js';
import { hashPassword } from './broker-users.js';

export interface HashPasswordIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function hashPasswordCommand(user: string | undefined, io: HashPasswordIO, input: NodeJS.ReadStream = process.stdin): Promise<number> {
  if (user !== undefined && (user.trim() === '' || user.includes(':'))) throw new ConfigError(`hash-password: user name ${JSON.stringify(user)} is empty or holds a colon`);
  let password: string;
  if (input.isTTY) {
    password = await silentPrompt(input, 'Password: ');
    const again = await silentPrompt(input, 'Again: ');
    if (again !== password) throw new ConfigError('hash-password: the two passwords differ; nothing printed');
  } else {
    password = firstLine(await readAll(input));
  }
  if (password === '') throw new ConfigError('hash-password: the password is empty (give it on standard input or at the prompt)');
  const hash = await hashPassword(password);
  io.out(user !== undefined ? `${user.trim()}:${hash}` : hash);
  return 0;
}

function firstLine(text: string): string {
  return (text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '').trim();
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function silentPrompt(input: NodeJS.ReadStream, question: string): Promise<string> {
  process.stderr.write(question);
  // readline echoes what it reads to its output: give it one that swallows everything.
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input, output: muted, terminal: true });
  return new Promise((resolve) =>
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    }),
  );
}
