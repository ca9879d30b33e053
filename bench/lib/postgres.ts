// Debian's PostgreSQL, started per test or bench run as a private instance: its own data folder,
// a free 127.0.0.1 port, password authentication. PostgreSQL refuses to run as root, so when we
// are root (CI, this machine) initdb and postgres run as the `postgres` user (spawn's uid/gid).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './mosquitto.js';

/** The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin). */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] !== undefined ? join(root, majors[0], 'bin') : undefined;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** Who initdb/postgres run as: ourselves, or `postgres` when we are root. */
function runAs(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('running as root and there is no postgres user (apt-get install postgresql)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export interface PostgresOptions {
  /** fsync off: faster, for tests that do not kill the machine (default true in tests). */
  fsync?: boolean;
  port?: number;
}

export class PostgresServer {
  private child: ChildProcess | undefined;
  readonly dir: string;
  readonly password = `pw-${Math.random().toString(36).slice(2, 12)}`;
  readonly user = 'listener';
  port = 0;
  private readonly bin: string;
  private readonly as: RunAs;

  constructor(private readonly options: PostgresOptions = {}) {
    const bin = findPostgresBin();
    if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
    this.bin = bin;
    this.as = runAs();
    this.dir = mkdtempSync(join(tmpdir(), 'mil-pg-'));
  }

  /** postgres://listener:<password>@127.0.0.1:<port>/<db> */
  url(database = 'listener'): string {
    return `postgres://${this.user}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** initdb (first time only), then start and wait until it takes connections. */
  async start(): Promise<void> {
    const data = join(this.dir, 'data');
    if (!existsSync(data)) this.initdb(data);
    this.port = this.port || this.options.port || (await freePort());
    const args = ['-D', data, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1'];
    if (this.options.fsync === false) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    this.child = spawn(join(this.bin, 'postgres'), args, { stdio: 'ignore', ...this.as });
    await waitForPort(this.port, 30_000);
    await this.waitReady();
  }

  /** Fast shutdown (SIGINT: clients are disconnected, committed data kept). */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => c.kill('SIGKILL'), 15_000);
      c.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      c.kill(signal);
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and removes its data folder. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private initdb(data: string): void {
    const pwfile = join(this.dir, 'pw');
    writeFileSync(pwfile, `${this.password}\n`, { mode: 0o600 });
    if (this.as.uid !== undefined) {
      chownSync(this.dir, this.as.uid, this.as.gid!);
      chownSync(pwfile, this.as.uid, this.as.gid!);
    }
    const init = spawnSync(
      join(this.bin, 'initdb'),
      ['-D', data, '-U', this.user, `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { encoding: 'utf8', ...this.as },
    );
    rmSync(pwfile, { force: true });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }

  /** Until `listener` database exists and takes a query (created on the first start). */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    const env = { ...process.env, PGPASSWORD: this.password };
    while (Date.now() < deadline) {
      const r = spawnSync(join(this.bin, 'psql'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', this.user, '-d', 'postgres', '-Atc', "SELECT 1 FROM pg_database WHERE datname='listener'"], { encoding: 'utf8', env });
      if (r.status === 0) {
        if (r.stdout.trim() !== '1') {
          spawnSync(join(this.bin, 'psql'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', this.user, '-d', 'postgres', '-c', 'CREATE DATABASE listener'], { encoding: 'utf8', env });
          continue;
        }
        return;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`PostgreSQL on port ${this.port} did not become ready`);
  }
}
