// Run by test/node/threads.test.ts: `deno run --allow-read test/deno/threads_check.mjs` prints one
// JSON line. In Deno wg.ready() starts helper threads by default; gemm on 2 and 3 threads equals
// one thread bit for bit; the script ends although helpers are still running (they are unref'ed).
import * as wg from '../../packages/wasmgrad/dist/index.js';

await wg.ready();
const rt = wg.runtime();
const byDefault = wg.getThreads();
const n = 256;
const [a, b, c] = [0, 1, 2].map(() => rt.allocF32(n * n));
rt.write(
  a,
  Float32Array.from({ length: n * n }, (_, i) => Math.sin(i) * 10 ** ((i % 5) - 2)),
);
rt.write(
  b,
  Float32Array.from({ length: n * n }, (_, i) => Math.cos(i) * 10 ** ((i % 3) - 1)),
);
const run = async (threads) => {
  await wg.setThreads(threads);
  const jobs = rt.threadJobs;
  rt.kernels.f32_gemm(n, n, n, 1, a, n, 1, b, n, 1, 0, c, n, 1, rt.gemmWorkspace);
  return { bits: new Uint32Array(rt.read(c, n * n).buffer), split: rt.threadJobs > jobs };
};
const one = await run(1);
const results = [];
for (const threads of [2, 3]) {
  const r = await run(threads);
  results.push({ threads: wg.getThreads(), split: r.split, equal: r.bits.every((v, i) => v === one.bits[i]) });
}
console.log(JSON.stringify({ byDefault, threadable: rt.threadable, results }));
