// Starts test/unit/server/server-process.mjs (a ssemux server alone in a process) and talks to
// it; the process is killed when the test ends.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RealtimeServerOptions } from 'ssemux/server';
import { ensureServerBuild } from '../../support/cluster.js';
import { onCleanup } from './helpers.js';

export interface ServerProcessConfig {
  /** A redisStore on this Redis (else a memoryStore). */
  redisUrl?: string;
  key?: string;
  memberLeaseMs?: number;
  memoryStore?: { maxEvents?: number };
  /** Plain (JSON) options of createRealtimeServer. */
  options?: Omit<RealtimeServerOptions, 'store' | 'authenticate' | 'authorize' | 'defaultTopics' | 'onError'>;
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Runs an operation of server-process.mjs; rejects with its error (name, message, reason). */
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

export async function startServerProcess(config: ServerProcessConfig = {}): Promise<ServerProcess> {
  ensureServerBuild();
  const child = fork(fileURLToPath(new URL('./server-process.mjs', import.meta.url)), [JSON.stringify(config)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let alive = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve(void (alive = false))));
  const kill = async () => {
    if (!alive) return;
    child.kill('SIGKILL');
    await exited;
  };
  onCleanup(kill);
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let calls = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server process exited (${code}) before it listened`)));
    child.on('message', (message: { ready?: number; id?: number; result?: unknown; error?: { name: string; message: string; reason?: string } }) => {
      if (message.ready) return resolve(message.ready);
      const call = waiting.get(message.id!);
      waiting.delete(message.id!);
      if (message.error) call?.reject(Object.assign(new Error(message.error.message), message.error));
      else call?.resolve(message.result);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    call<T>(op: string, ...args: unknown[]) {
      return new Promise<T>((resolve, reject) => {
        const id = ++calls;
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, op, args });
      });
    },
    kill,
  };
}
