/**
 * Starting a worker in each runtime (worker_threads in Node, a module Web Worker in browsers and
 * Deno) behind one small interface, and giving errors that crossed from a worker their class back.
 * @module
 */
import type * as Comlink from 'comlink/dist/esm/comlink.mjs';
import {
  DisposedError,
  OutOfMemoryError,
  RuntimeStateError,
  ShapeError,
  ValueError,
  WasmgradError,
} from '../errors.js';
import { NonFiniteLossError } from '../model/model.js';

/** A started worker: its comlink endpoint, a way to hear of its death, and a way to end it. */
export interface Link {
  endpoint: Comlink.Endpoint;
  onDeath(listener: (reason: string) => void): void;
  terminate(): Promise<void>;
}

/** A Node worker thread; specifiers are computed so that browser bundlers leave them alone. */
export async function nodeLink(entry: string | URL | undefined, name: string | undefined): Promise<Link> {
  const threadsName = 'node:worker_threads';
  const adapterName = 'comlink/dist/esm/node-adapter.mjs';
  type NodeWorker = {
    on(type: string, listener: (value: unknown) => void): void;
    terminate(): Promise<number>;
  };
  const { Worker } = (await import(/* @vite-ignore */ threadsName)) as {
    Worker: new (file: string | URL, options?: { name?: string }) => NodeWorker;
  };
  const adapter = (await import(/* @vite-ignore */ adapterName)) as { default: (port: unknown) => Comlink.Endpoint };
  const worker = new Worker(entry ?? new URL('./entry.js', import.meta.url), { name });
  return {
    endpoint: adapter.default(worker),
    onDeath(listener) {
      worker.on('error', (err) => listener(`the worker failed: ${(err as Error)?.stack ?? String(err)}`));
      worker.on('messageerror', (err) => listener(`a message from the worker could not be read: ${String(err)}`));
      worker.on('exit', (code) => listener(`the worker exited with code ${String(code)}`));
    },
    async terminate() {
      await worker.terminate();
    },
  };
}

/** A module Web Worker (browsers, Deno). The literal `new URL` lets bundlers find the entry. */
export function webLink(entry: string | URL | undefined, name: string | undefined): Link {
  const worker = entry
    ? new Worker(entry, { type: 'module', name })
    : new Worker(new URL('./entry.js', import.meta.url), { type: 'module', name });
  const listeners: ((reason: string) => void)[] = [];
  const die = (reason: string) => {
    for (const l of listeners) l(reason);
  };
  // preventDefault keeps an error in the worker from also failing the page (or the Deno process).
  worker.onerror = (event) => {
    event.preventDefault();
    die(`the worker failed: ${event.message || 'it could not be loaded or threw'}`);
  };
  worker.onmessageerror = () => die('a message from the worker could not be read');
  return {
    endpoint: worker as unknown as Comlink.Endpoint,
    onDeath(listener) {
      listeners.push(listener);
    },
    async terminate() {
      worker.terminate();
    },
  };
}

/** Typed errors that keep their class when they cross from the worker. */
const TYPED_ERRORS: Record<string, new (op: string, message: string) => WasmgradError> = {
  DisposedError,
  NonFiniteLossError,
  RuntimeStateError,
  ShapeError,
  ValueError,
  WasmgradError,
};

/**
 * Gives a wasmgrad error about to cross to the other thread its class's real name: `name` comes
 * from `new.target.name`, which minifiers (e.g. a Vite production build) shorten to 'o' or 'rs',
 * and {@link retype} on the other side finds the class by name.
 */
export function canonicalName(err: unknown): void {
  if (!(err instanceof WasmgradError)) return;
  const ctor: unknown = err.constructor;
  if (ctor === OutOfMemoryError) err.name = 'OutOfMemoryError';
  for (const [name, cls] of Object.entries(TYPED_ERRORS)) if (ctor === cls) err.name = name;
}

/**
 * comlink rebuilds a thrown error as a plain Error carrying its name; this gives a wasmgrad error
 * its class back so that `instanceof wg.ShapeError` works across threads.
 */
export function retype(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const op = err.message.split(': ', 1)[0] ?? 'worker';
  let typed: WasmgradError | undefined;
  if (err.name === 'OutOfMemoryError') typed = new OutOfMemoryError(op, 0, '');
  else if (Object.hasOwn(TYPED_ERRORS, err.name)) typed = new (TYPED_ERRORS[err.name] as typeof WasmgradError)(op, '');
  if (!typed) return err;
  typed.name = err.name; // the class's real name (see canonicalName), also in minified bundles
  typed.message = err.message;
  typed.stack = err.stack;
  return typed;
}
