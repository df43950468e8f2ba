/**
 * The helper thread of the kernel thread pool, and how to start one in each runtime.
 *
 * The helper's code is a plain JavaScript string started from a Blob URL (browsers, Deno) or with
 * `eval: true` (Node), so that it runs from the TypeScript sources too (Node cannot start a worker
 * from a .ts file) and no bundler needs to find a second entry file.
 *
 * Protocol (all in the shared wasm memory; see {@link ThreadPool}): `ctl` holds four i32 values
 * [generation, done, failed, shutdown]. A helper waits until the generation changes, reads its
 * slot (f64 values: kernel index or −1, argument count, arguments), calls that export of its own
 * instance, then adds one to `done` and notifies. Every helper acknowledges every generation, so
 * the caller knows that no helper still reads a slot when it writes the next job.
 * @module
 */
import { RuntimeStateError } from '../errors.js';
import { isNode } from './platform.js';

/** How many times a helper re-reads the generation before it sleeps in Atomics.wait. */
export const HELPER_SPIN = 20000;

/** The message that starts a helper. */
export interface HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Top (exclusive, 16-byte aligned) of this helper's own stack region. */
  stackTop: number;
  /** Byte address of the four control i32 values. */
  ctlPtr: number;
  /** Byte address of this helper's job slot (32 f64 values). */
  slotPtr: number;
  /** Export names, indexed by a slot's kernel index. */
  names: readonly string[];
  spin: number;
}

const BODY = `
onInit(async (init) => {
  let ctl;
  try {
    const instance = await WebAssembly.instantiate(init.module, { env: { memory: init.memory } });
    instance.exports.__stack_pointer.value = init.stackTop;
    const fns = init.names.map((name) => instance.exports[name]);
    ctl = new Int32Array(init.memory.buffer, init.ctlPtr, 4);
    const slot = new Float64Array(init.memory.buffer, init.slotPtr, 32);
    const args = [];
    post({ ok: true });
    let seen = 0;
    for (;;) {
      let g = Atomics.load(ctl, 0);
      for (let i = 0; g === seen && i < init.spin; i++) g = Atomics.load(ctl, 0);
      while (g === seen) {
        Atomics.wait(ctl, 0, seen);
        g = Atomics.load(ctl, 0);
      }
      seen = g;
      if (Atomics.load(ctl, 3) !== 0) break;
      const fn = slot[0];
      if (fn >= 0) {
        const argc = slot[1];
        args.length = argc;
        for (let i = 0; i < argc; i++) args[i] = slot[2 + i];
        try {
          fns[fn].apply(null, args);
        } catch (err) {
          Atomics.store(ctl, 2, 1);
        }
      }
      Atomics.add(ctl, 1, 1);
      Atomics.notify(ctl, 1);
    }
  } catch (err) {
    post({ ok: false, message: String((err && err.message) || err) });
  }
  finish();
});
`;

// Node evaluates the code as CommonJS (require), or as an ES module when the parent runs with
// --input-type=module (inherited through execArgv): then process.getBuiltinModule (Node ≥ 20.16),
// else a dynamic import.
const NODE_PRELUDE = `
const threads =
  typeof require === 'function'
    ? Promise.resolve(require('node:worker_threads'))
    : typeof process.getBuiltinModule === 'function'
      ? Promise.resolve(process.getBuiltinModule('node:worker_threads'))
      : import('node:worker_threads');
let port;
const onInit = (f) => threads.then((t) => {
  port = t.parentPort;
  port.once('message', f);
});
// Synchronous: the job loop that follows never yields to the event loop.
const post = (m) => port.postMessage(m);
const finish = () => port.close();
`;

const WEB_PRELUDE = `
const onInit = (f) => { self.onmessage = (e) => { self.onmessage = null; f(e.data); }; };
const post = (m) => self.postMessage(m);
const finish = () => self.close();
`;

/** A started helper thread. */
export interface Helper {
  /** Resolves when the helper has its instance and waits for jobs; rejects if it cannot start. */
  readonly started: Promise<void>;
  /** Ends the thread (after a shutdown generation it ends by itself; this is the backstop). */
  terminate(): void;
}

type Reply = { ok: true } | { ok: false; message: string };

function startedFrom(subscribe: (onReply: (r: Reply) => void, onError: (why: string) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    subscribe(
      (reply) => {
        if (reply.ok) resolve();
        else reject(new RuntimeStateError('setThreads', `a helper thread could not start: ${reply.message}`));
      },
      (why) => reject(new RuntimeStateError('setThreads', `a helper thread failed: ${why}`)),
    );
  });
}

/** A Node worker thread, unref'ed so that it never keeps the process alive. */
async function nodeHelper(init: HelperInit): Promise<Helper> {
  const threadsName = 'node:worker_threads';
  type NodeWorker = {
    once(type: string, listener: (value: unknown) => void): void;
    postMessage(value: unknown): void;
    unref(): void;
    terminate(): Promise<number>;
  };
  const { Worker } = (await import(/* @vite-ignore */ threadsName)) as {
    Worker: new (code: string, options: { eval: true; name?: string }) => NodeWorker;
  };
  const worker = new Worker(NODE_PRELUDE + BODY, { eval: true, name: 'wasmgrad-kernels' });
  worker.unref();
  const started = startedFrom((onReply, onError) => {
    worker.once('message', (m) => onReply(m as Reply));
    worker.once('error', (e) => onError((e as Error)?.message ?? String(e)));
    worker.once('exit', (code) => onError(`exited with code ${String(code)}`));
  });
  worker.postMessage(init);
  return {
    started,
    terminate() {
      void worker.terminate();
    },
  };
}

let webUrl: string | undefined;

/** A module Web Worker (browsers, Deno) from a Blob URL. */
function webHelper(init: HelperInit): Helper {
  webUrl ??= URL.createObjectURL(new Blob([WEB_PRELUDE + BODY], { type: 'text/javascript' }));
  const worker = new Worker(webUrl, { type: 'module', name: 'wasmgrad-kernels' });
  const started = startedFrom((onReply, onError) => {
    worker.onmessage = (e: MessageEvent) => {
      worker.onmessage = null;
      onReply(e.data as Reply);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      onError(e.message || 'it could not be loaded');
    };
  });
  worker.postMessage(init);
  return {
    started,
    terminate() {
      worker.terminate();
    },
  };
}

/** Starts one helper thread in whatever runtime this is. */
export function startHelper(init: HelperInit): Promise<Helper> {
  return isNode() ? nodeHelper(init) : Promise.resolve(webHelper(init));
}
