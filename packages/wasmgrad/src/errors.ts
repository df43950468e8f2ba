/**
 * Typed errors. Every error names the operation (or file) that raised it and the offending value,
 * so that a message alone says what was expected and what came.
 */

/** Base class of every error wasmgrad throws on purpose. */
export class WasmgradError extends Error {
  /** The operation, layer, or file that raised the error, e.g. `matMul` or `idx:train-images`. */
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    // Subclasses restate their name as a literal: a minifier renames classes, and worker errors
    // are matched back to their class by name.
    this.name = new.target.name;
    this.op = op;
  }
}

/** Shapes that do not fit the operation (inner dimensions, ranks, value counts). */
export class ShapeError extends WasmgradError {
  override readonly name: string = 'ShapeError';
}

/** An argument with a wrong value or type (non-finite sizes, unknown names, bad options). */
export class ValueError extends WasmgradError {
  override readonly name: string = 'ValueError';
}

/** The wasm memory could not grow to satisfy a request; `bytes` is the size requested. */
export class OutOfMemoryError extends WasmgradError {
  override readonly name: string = 'OutOfMemoryError';
  readonly bytes: number;
  constructor(op: string, bytes: number, detail: string) {
    super(op, `could not allocate ${bytes} bytes (${detail})`);
    this.bytes = bytes;
  }
}

/** The runtime is missing or unusable: not loaded yet, a wasm module that fails to load, etc. */
export class RuntimeStateError extends WasmgradError {
  override readonly name: string = 'RuntimeStateError';
}

/** A tensor used after dispose(). */
export class DisposedError extends WasmgradError {
  override readonly name: string = 'DisposedError';
}

/** A worker that crashed, exited or was terminated: its pending and later calls reject with this. */
export class WorkerError extends WasmgradError {
  override readonly name: string = 'WorkerError';
}

/** A file that is not what it claims to be (safetensors, model.json): names the file and the offending value. */
export class FormatError extends WasmgradError {
  override readonly name: string = 'FormatError';
}

/** Formats a shape for messages: `[2,3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
