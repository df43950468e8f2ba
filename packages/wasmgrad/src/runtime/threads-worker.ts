/**
 * The helper thread of the kernel thread pool, and how to start one in each runtime.
 *
 * The helper's code is a plain JavaScript string started from a Blob URL (browsers) or with
 * `eval: true` (Node and Deno's node:worker_threads), so that it runs from the TypeScript sources
 * too (Node cannot start a worker from a .ts file) and no bundler needs to find a second entry.
 *
 * Protocol (all in the shared wasm memory; see {@link ThreadPool}). `ctl` holds i32 values:
 * [0] the job word `generation << 10 | parts << 5 | next`, [1] parts finished, [2] a failure
 * flag, [3] shutdown, then per helper its gemm workspace and scratch block addresses. A job's
 * parts sit in f64 slots: kernel index, argument count, index of the workspace argument, which
 * workspace (0 gemm, 1 scratch), arguments. Every thread, the caller included, claims parts with
 * a compare-exchange on the job word, runs each with its own workspace, and counts it finished.
 * The word carries the generation and the part count, so a helper that wakes late can never claim
 * a part of a job twice; and a caller never waits for a helper that has not woken up: it runs
 * the unclaimed parts itself.
 * @module
 */
import { RuntimeStateError } from '../errors.js';
import { isNode } from './platform.js';

/** How many times a helper re-reads the job word before it sleeps in Atomics.wait. */
export const HELPER_SPIN = 20000;

/** The message that starts a helper. */
export interface HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** This helper's index (its workspace addresses are at ctl[4 + 2·index], ctl[5 + 2·index]). */
  index: number;
  /** Top (exclusive, 16-byte aligned) of this helper's own stack region. */
  stackTop: number;
  /** Byte address of the control i32 values. */
  ctlPtr: number;
  ctlLength: number;
  /** Byte address of the part slots. */
  slotsPtr: number;
  slotF64: number;
  maxParts: number;
  /** Export names, indexed by a slot's kernel index. */
  names: readonly string[];
  spin: number;
}

const BODY = `
onInit(async (init) => {
  try {
    const instance = await WebAssembly.instantiate(init.module, { env: { memory: init.memory } });
    instance.exports.__stack_pointer.value = init.stackTop;
    const fns = init.names.map((name) => instance.exports[name]);
    const ctl = new Int32Array(init.memory.buffer, init.ctlPtr, init.ctlLength);
    const slots = new Float64Array(init.memory.buffer, init.slotsPtr, init.slotF64 * init.maxParts);
    const wsAt = 4 + 2 * init.index;
    const args = [];
    post({ ok: true });
    let seen = 0;
    for (;;) {
      let w = Atomics.load(ctl, 0);
      for (let i = 0; w === seen && i < init.spin; i++) w = Atomics.load(ctl, 0);
      while (w === seen) {
        Atomics.wait(ctl, 0, seen);
        w = Atomics.load(ctl, 0);
      }
      if (Atomics.load(ctl, 3) !== 0) break;
      // Claim parts until none is left.
      while ((w & 31) < ((w >> 5) & 31)) {
        const got = Atomics.compareExchange(ctl, 0, w, w + 1);
        if (got !== w) {
          w = got;
          continue;
        }
        const at = (w & 31) * init.slotF64;
        const argc = slots[at + 1];
        args.length = argc;
        for (let i = 0; i < argc; i++) args[i] = slots[at + 4 + i];
        args[slots[at + 2]] = ctl[wsAt + slots[at + 3]] >>> 0;
        try {
          fns[slots[at]].apply(null, args);
        } catch (err) {
          Atomics.store(ctl, 2, 1);
        }
        Atomics.add(ctl, 1, 1);
        Atomics.notify(ctl, 1);
        w = Atomics.load(ctl, 0);
      }
      seen = w;
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
// Deno's parentPort has no close(); there the caller's terminate() ends the thread.
const finish = () => (typeof port.close === 'function' ? port.close() : undefined);
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
  const started = startedFrom((onReply, onError) => {
    worker.once('message', (m) => onReply(m as Reply));
    worker.once('error', (e) => onError((e as Error)?.message ?? String(e)));
    worker.once('exit', (code) => onError(`exited with code ${String(code)}`));
  });
  worker.postMessage(init);
  // Referenced until it has started (else a script awaiting the start could end first), then
  // unref'ed: an idle helper never keeps the process alive.
  void started.then(
    () => worker.unref(),
    () => worker.unref(),
  );
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

const isDeno = (): boolean => typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

/**
 * Starts one helper thread in whatever runtime this is. Deno takes its node:worker_threads
 * Worker too: unlike its Web Worker, that one can be unref'ed, so helpers never keep a script
 * running after its end.
 */
export function startHelper(init: HelperInit): Promise<Helper> {
  return isNode() || isDeno() ? nodeHelper(init) : Promise.resolve(webHelper(init));
}
