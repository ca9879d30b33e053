// Forked bench helpers (publishers, raw subscriber, the original's design) and a small typed wait
// on their IPC messages. Every wait has a deadline.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Child {
  proc: ChildProcess;
  /** Resolves with the next message of this type (or rejects on error/exit/timeout). */
  next<T = Record<string, unknown>>(type: string, timeoutMs: number): Promise<T>;
  send(msg: unknown): void;
  kill(): Promise<void>;
}

export function childScript(name: string): string {
  return fileURLToPath(new URL(`../children/${name}.js`, import.meta.url));
}

export function forkChild(name: string, job: unknown): Child {
  const proc = fork(childScript(name), [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: Array<{ type: string } & Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let exited: string | undefined;
  proc.on('message', (m) => {
    inbox.push(m as { type: string });
    for (const w of waiters.splice(0)) w();
  });
  // 'close', not 'exit': 'exit' can be handled before the last IPC messages have been read.
  proc.on('close', (code, signal) => {
    exited = `${name} exited (code ${code}, signal ${signal})`;
    for (const w of waiters.splice(0)) w();
  });
  return {
    proc,
    send: (msg) => {
      if (proc.connected) proc.send(msg as object);
    },
    next: <T>(type: string, timeoutMs: number): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          check.cancelled = true;
          reject(new Error(`${name}: no '${type}' within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = Object.assign(
          (): void => {
            if (check.cancelled) return;
            const i = inbox.findIndex((m) => m.type === type || m.type === 'error');
            if (i >= 0) {
              const [m] = inbox.splice(i, 1);
              clearTimeout(timer);
              if (m!.type === 'error') reject(new Error(`${name}: ${String(m!['message'])}`));
              else resolve(m as T);
              return;
            }
            if (exited) {
              clearTimeout(timer);
              reject(new Error(exited));
              return;
            }
            waiters.push(check);
          },
          { cancelled: false },
        );
        check();
      }),
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => proc.kill('SIGKILL'), 3000);
        proc.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        proc.kill('SIGTERM');
      });
    },
  };
}

/** Waits for a child to exit on its own, then kills it past the deadline. */
export async function waitExit(child: Child, timeoutMs: number): Promise<void> {
  const p = child.proc;
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      void child.kill().then(resolve);
    }, timeoutMs);
    p.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
