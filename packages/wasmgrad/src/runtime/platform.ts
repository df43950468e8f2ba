/** Which JavaScript runtime this is, for the adapters that must differ (files, workers). */

const g = globalThis as { Deno?: unknown; process?: { versions?: { node?: string } } };

/** True in Node (false in Deno, which also defines `process`, and in browsers). */
export function isNode(): boolean {
  return typeof g.Deno === 'undefined' && typeof g.process?.versions?.node === 'string';
}
