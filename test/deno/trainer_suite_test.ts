// The cross-runtime trainer suite (test/shared/trainer-suite.js) in Deno, against the compiled
// package imported by path; module Web Workers, SharedArrayBuffer stop flag. Node and Chromium run
// the same checks (test/node/trainer-suite.test.ts, test/browser/checks.js).
import * as wg from '../../packages/wasmgrad/dist/index.js';
// @ts-types="../shared/trainer-suite.d.ts"
import { trainerChecks } from '../shared/trainer-suite.js';

for (const check of trainerChecks(wg, { runtime: 'deno', sharedMemory: true })) {
  Deno.test(check.name, async () => {
    const note = await check.run();
    if (note) console.log(`${check.name}: ${note}`);
  });
}
