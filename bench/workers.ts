/**
 * @module workers: the coordinator's side of the load generator: a pool of
 * forked client workers, each answering one command at a time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command, Reply } from './messages.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

export class WorkerPool {
  private constructor(private readonly children: ChildProcess[]) {}

  static start(count: number): WorkerPool {
    const children = Array.from({ length: count }, (_, id) =>
      fork(WORKER_SCRIPT, [], { env: { ...process.env, BENCH_WORKER_ID: String(id) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    return new WorkerPool(children);
  }

  get size(): number {
    return this.children.length;
  }

  /** Sends each worker its own command (or none) without waiting for an answer. */
  tell(commands: (Command | undefined)[]): void {
    commands.forEach((command, i) => command && this.children[i]!.send(command));
  }

  /** Sends each worker its own command and resolves with every answer of type `expect`. */
  async ask<K extends Reply['reply']>(commands: Command[], expect: K, timeoutMs: number): Promise<Extract<Reply, { reply: K }>[]> {
    return Promise.all(commands.map((command, i) => this.askOne(this.children[i]!, command, expect, timeoutMs)));
  }

  /** The same command to every worker. */
  askAll<K extends Reply['reply']>(command: Command, expect: K, timeoutMs: number): Promise<Extract<Reply, { reply: K }>[]> {
    return this.ask(this.children.map(() => command), expect, timeoutMs);
  }

  private askOne<K extends Reply['reply']>(child: ChildProcess, command: Command, expect: K, timeoutMs: number) {
    return new Promise<Extract<Reply, { reply: K }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`a load worker did not answer "${command.cmd}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: Reply) => {
        if (message.reply !== expect && message.reply !== 'error') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (message.reply === 'error') reject(new Error(`load worker: ${message.message}`));
        else resolve(message as Extract<Reply, { reply: K }>);
      };
      child.on('message', onMessage);
      child.send(command);
    });
  }

  stop(): void {
    for (const child of this.children) child.kill();
  }
}

/** Splits `items` round-robin into `parts` shares, so every channel spans every worker. */
export function share<T>(items: readonly T[], parts: number): T[][] {
  const shares: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((item, i) => shares[i % parts]!.push(item));
  return shares;
}
