// wasmgrad imported with an npm: specifier in Deno, offline. test/node/deno.test.ts packs the
// package (`npm pack`: its package.json "files"), unpacks it into <dir>/node_modules/wasmgrad next
// to its dependency comlink, writes <dir>/deno.json with `"nodeModulesDir": "manual"` (Deno then
// resolves npm: specifiers from that node_modules and downloads nothing), and runs
// `deno test --config <dir>/deno.json test/deno/npm`. The package's own worker entry and wasm
// files are found from inside node_modules; the first check of the shared trainer suite runs there.
import * as wg from 'npm:wasmgrad';
// @ts-types="../../shared/trainer-suite.d.ts"
import { trainerChecks } from '../../shared/trainer-suite.js';

const [fitAndPull] = trainerChecks(wg, { runtime: 'deno npm:wasmgrad', sharedMemory: true });

Deno.test('deno npm:wasmgrad · resolves to the packed package in node_modules', () => {
  const at = import.meta.resolve('npm:wasmgrad');
  if (!/\/node_modules\/wasmgrad\/dist\/index\.js$/.test(at)) throw new Error(`npm:wasmgrad resolved to ${at}`);
});

Deno.test(fitAndPull?.name ?? 'missing check', async () => {
  if (!fitAndPull) throw new Error('the shared suite has no checks');
  await fitAndPull.run();
});
