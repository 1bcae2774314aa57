/**
 * @module checkpointer: copies the SQLite store's write-ahead log into the
 * database file from a worker thread, so the event loop never waits for it.
 *
 * In WAL mode a commit only appends to the log; now and then the log's pages
 * must be copied into the database and both files synced to disk. Left to
 * SQLite, that happens inside whichever commit crosses the threshold, on the
 * event loop: a few milliseconds of copying and `fsync` every few hundred
 * milliseconds under load, which is where the slowest percent of deliveries
 * came from. The worker's own connection runs passive checkpoints, which never
 * block the server's writes, soon after each burst of them.
 *
 * What a worker cannot do is restart the log: SQLite starts writing the log
 * from the top again only when a write begins with every frame copied, and a
 * busy server commits while the worker copies. So the server's connection
 * keeps an automatic checkpoint as well, at a threshold it reaches rarely;
 * by then the worker has copied nearly everything, so it is short.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** Log pages after which the server's own connection checkpoints (SQLite's default is 1,000). */
const BACKSTOP_PAGES = 10_000;
/** SQLite's default, restored if the worker stops. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;
/** After a write, the worker waits this long for more before it checkpoints: one pass copies a burst's pages once. */
const GATHER_MS = 50;

/** Slots of the shared signal: a count of writes, and a flag to stop. */
const WRITES = 0;
const STOP = 1;

interface WorkerData {
  driver: string;
  file: string;
  signal: SharedArrayBuffer;
  /** The signal's slots, {@link WRITES} and {@link STOP}: the worker's program cannot read this module's constants. */
  slots: { writes: number; stop: number };
  gatherMs: number;
}

export interface CheckpointerOptions {
  /** Told when a checkpoint fails (each new reason once), or the worker stops: the log then grows until SQLite checkpoints it on the event loop again. */
  onProblem?: (message: string) => void;
}

export class Checkpointer {
  private readonly flags = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  /** Started by the first write: a worker is a V8 instance of its own, about 9 MiB, which a server that stores nothing need not pay for. */
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  /** The worker could not be started: SQLite checkpoints on the event loop, as it does by default. */
  private failed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly options: CheckpointerOptions = {},
  ) {}

  /** Called after every write, once it has committed: wakes the worker if it is waiting for one. It never throws. */
  wrote(): void {
    Atomics.add(this.flags, WRITES, 1);
    if (this.worker) Atomics.notify(this.flags, WRITES);
    else if (!this.stopping && !this.failed) this.start();
  }

  /** Stops the worker; close the server's connection after this, so that it, the last one, checkpoints what is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    // Unreferenced, it would not keep the process alive until it has closed its connection.
    this.worker?.ref();
    Atomics.store(this.flags, STOP, 1);
    // Counted as a write too, so a worker about to wait for one does not wait (see the loop).
    Atomics.add(this.flags, WRITES, 1);
    Atomics.notify(this.flags, WRITES);
    Atomics.notify(this.flags, STOP);
    await this.exited;
  }

  private start(): void {
    const { db, options } = this;
    const data: WorkerData = {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file: db.name,
      signal: this.flags.buffer as SharedArrayBuffer,
      slots: { writes: WRITES, stop: STOP },
      gatherMs: GATHER_MS,
    };
    let worker: Worker;
    try {
      // The worker's whole program is the function below, so the module runs the same from source (tests) and built.
      worker = new Worker(`(${checkpointLoop.toString()})(require, require('node:worker_threads').workerData)`, {
        eval: true,
        workerData: data,
        resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
      });
    } catch (error) {
      // The write that called this has committed: it must not fail for want of a thread.
      this.failed = true;
      options.onProblem?.(`cannot start the SQLite checkpoint worker (${(error as Error).message}); checkpoints stay on the event loop`);
      return;
    }
    this.worker = worker;
    worker.unref();
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    worker.on('message', (message: string) => options.onProblem?.(`SQLite checkpoint failed in the background: ${message}`));
    this.exited = new Promise((resolve) => {
      let reported = false;
      // An error is followed by an exit: one report for both.
      const stopped = (reason: string) => {
        if (!this.stopping && !reported) {
          reported = true;
          if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
          options.onProblem?.(`the SQLite checkpoint worker stopped (${reason}); checkpoints are back on the event loop`);
        }
        resolve();
      };
      worker.on('error', (error) => stopped(error.message));
      worker.on('exit', (code) => stopped(`exit code ${code}`));
    });
  }
}

/**
 * The worker's program. It runs as the source text of this function, so it
 * must not use anything from this module: what it needs comes in `data`.
 */
function checkpointLoop(load: NodeJS.Require, data: WorkerData): void {
  const Sqlite = load(data.driver) as typeof Database;
  const { parentPort } = load('node:worker_threads') as typeof import('node:worker_threads');
  const flags = new Int32Array(data.signal);
  const { writes, stop } = data.slots;
  const db = new Sqlite(data.file);
  let lastProblem = '';
  // From 0, not the count at start: writes made while the worker started are checkpointed too.
  // The stop flag is read after the count: a stop that comes between them has counted a write, so the wait returns at once.
  let seen = 0;
  while (Atomics.load(flags, stop) === 0) {
    Atomics.wait(flags, writes, seen);
    // Sleeps the gathering time unless told to stop meanwhile.
    Atomics.wait(flags, stop, 0, data.gatherMs);
    seen = Atomics.load(flags, writes);
    if (Atomics.load(flags, stop) !== 0) break;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
      lastProblem = '';
    } catch (error) {
      const problem = (error as Error).message;
      if (problem !== lastProblem) parentPort?.postMessage(problem);
      lastProblem = problem;
    }
  }
  db.close();
}
