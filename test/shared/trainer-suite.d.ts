// Types of ./trainer-suite.js (plain JavaScript so that Node, Deno and Chromium load it as it is).

/** Where the suite runs. */
export interface TrainerSuiteEnv {
  /** Runtime name used in the check names: 'node', 'deno', 'chromium'. */
  runtime: string;
  /** Merged into every `wg.worker.spawn` (e.g. the compiled worker entry in Node). */
  spawnOptions?: Record<string, unknown>;
  /** True where the stop flag can be shared with the worker (SharedArrayBuffer crosses to it). */
  sharedMemory: boolean;
}

/** One check: `run()` resolves, maybe with a note to print, or throws. */
export interface TrainerCheck {
  name: string;
  run(): Promise<string | undefined>;
}

/** The suite's checks against the package `wg` (the built wasmgrad module namespace). */
export function trainerChecks(wg: object, env: TrainerSuiteEnv): TrainerCheck[];

/** Two interleaved spirals, `n` points each, as [2n, 2] inputs and one-hot [2n, 2] targets. */
export function spirals(n: number): {
  x: { values: number[]; shape: number[] };
  y: { values: number[]; shape: number[] };
};
