/**
 * The control word a trainer shares with its worker when SharedArrayBuffer is available, so that
 * stop() is heard after the current batch instead of at the worker's next yield.
 * @module
 */

/**
 * Layout of the control block a trainer may share with its worker (an Int32Array over a
 * SharedArrayBuffer, one element): bit 0 is the stop request, written by the calling thread with
 * `Atomics.or`; the bits above count the batches of the running fit, added by the worker with
 * `Atomics.add(…, 2)` after every batch, which also reads the stop bit. One atomic word makes the
 * order exact: the batches counted before the stop bit was set are the ones that ended before the
 * request.
 */
export const CONTROL_STOP = 1;
/** What the worker adds to the control word after each batch (see {@link CONTROL_STOP}). */
export const CONTROL_BATCH = 2;

/** A control block: one Int32 over shared memory, or undefined where memory cannot be shared. */
export function createControl(): Int32Array | undefined {
  const g = globalThis as { crossOriginIsolated?: boolean };
  // Browsers only let a SharedArrayBuffer cross to a worker on cross-origin-isolated pages.
  if (typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) return undefined;
  return new Int32Array(new SharedArrayBuffer(4));
}
