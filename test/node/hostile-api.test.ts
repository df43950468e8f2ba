/**
 * Hostile arguments to the public API (RELIABILITY.md, "Bad input"): wrong types, NaN/±Infinity,
 * negative, non-integer and huge sizes, `__proto__`/`constructor` names in configs, disposed
 * tensors and tensors from another runtime. Every case must throw a WasmgradError subclass (never a
 * wasm trap, a RangeError/TypeError from deep inside, or a hang), and Object.prototype must be
 * unchanged after it. Table-driven: [what, call].
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

let other: wg.Runtime;
let live: wg.Tensor;
let dead: wg.Tensor;
let foreign: wg.Tensor;
let model: wg.Sequential;

beforeAll(async () => {
  await wg.ready();
  other = await wg.createRuntime({ simd: false });
  live = wg.keep(wg.ones([2, 3]));
  dead = wg.ones([2, 3]);
  dead.dispose();
  foreign = wg.withRuntime(other, () => wg.ones([2, 3]));
  model = wg.sequential([wg.layers.dense({ units: 2, inputShape: [3] })]);
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
});

afterAll(() => {
  wg.dispose([live, foreign]);
});

const any = (v: unknown) => v as never;
const polluted = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
const hostileConfig = (extra: Record<string, unknown>) =>
  Object.assign(JSON.parse('{"__proto__": {"units": 3}}'), extra);

type Case = [string, () => unknown];
const BAD_SIZES: unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '3', null, {}, [2]];

const CASES: Case[] = [
  // Tensor creation.
  ...BAD_SIZES.map((d): Case => [`zeros([${String(d)}])`, () => wg.zeros(any([d]))]),
  ...BAD_SIZES.map((d): Case => [`tensor(values, [${String(d)}, 2])`, () => wg.tensor([1, 2], any([d, 2]))]),
  ['zeros(null)', () => wg.zeros(any(null))],
  ['zeros("12")', () => wg.zeros(any('12'))],
  ['zeros([2**31, 2**31]) (overflowing product)', () => wg.zeros([2 ** 31, 2 ** 31])],
  ['tensor("abc")', () => wg.tensor(any('abc'))],
  ['tensor([1, 2], [3])', () => wg.tensor([1, 2], [3])],
  ['tensor(ragged)', () => wg.tensor(any([[1, 2], [3]]))],
  ['tensor([{}])', () => wg.tensor(any([{}]))],
  ['fill([2], "x")', () => wg.fill([2], any('x'))],
  // Ops.
  ['add(t, "x")', () => wg.add(live, any('x'))],
  ['add(t, undefined)', () => wg.add(live, any(undefined))],
  ['matMul shape mismatch', () => wg.matMul(live, live)],
  ['reshape to 7', () => wg.reshape(live, [7])],
  ['reshape to [-1, -1]', () => wg.reshape(live, [-1, -1])],
  ['slice out of range', () => wg.slice(live, [5, 0], [1, 1])],
  ['slice with NaN', () => wg.slice(live, [Number.NaN, 0], [1, 1])],
  ['transpose [0, 0]', () => wg.transpose(live, [0, 0])],
  ['concat []', () => wg.concat([], 0)],
  ['sum axis 5', () => wg.sum(live, 5)],
  ['sum axis 0.5', () => wg.sum(live, 0.5)],
  ['scale NaN', () => wg.scale(live, Number.NaN)],
  ['dropout rate 1.5', () => wg.dropout(live, 1.5)],
  ['dropout rate NaN', () => wg.dropout(live, Number.NaN)],
  ['leakyRelu alpha "x"', () => wg.leakyRelu(live, any('x'))],
  ['unary kind __proto__', () => wg.unary(live, any('__proto__'))],
  ['unary kind constructor', () => wg.unary(live, any('constructor'))],
  ['maxPool2d on rank 2', () => wg.maxPool2d(live, 2)],
  ['conv2d stride 0', () => wg.conv2d(wg.ones([1, 4, 4, 1]), wg.ones([2, 2, 1, 1]), 0)],
  ['conv2d stride NaN', () => wg.conv2d(wg.ones([1, 4, 4, 1]), wg.ones([2, 2, 1, 1]), Number.NaN)],
  ['randomUniform([-2])', () => wg.randomUniform([-2])],
  ['randomNormal seed NaN', () => wg.randomNormal([2], 0, 1, Number.NaN)],
  // Disposed tensors and tensors of another runtime.
  ['disposed: dataSync', () => dead.dataSync()],
  ['disposed: add', () => wg.add(dead, live)],
  ['disposed: matMul', () => wg.matMul(live, dead, false, true)],
  ['disposed: fit', () => model.fit(dead, live)],
  ['disposed: predict', () => model.predict(dead)],
  ['foreign runtime: add', () => wg.add(live, foreign)],
  ['foreign runtime: matMul', () => wg.matMul(live, foreign, false, true)],
  ['foreign runtime: fit', () => model.fit(foreign, wg.ones([2, 2]))],
  // Layer configs.
  ...BAD_SIZES.map((d): Case => [`dense units ${String(d)}`, () => wg.layers.dense(any({ units: d }))]),
  ['dense units 2**40 (built)', () => wg.sequential([wg.layers.dense({ units: 2 ** 40, inputShape: [3] })]).build()],
  ['dense config with inherited units', () => wg.layers.dense(any(hostileConfig({})))],
  ['dense activation __proto__', () => wg.layers.dense(any({ units: 2, activation: '__proto__' }))],
  ['dense activation constructor', () => wg.layers.dense(any({ units: 2, activation: 'constructor' }))],
  ['dense initializer constructor', () => wg.layers.dense(any({ units: 2, kernelInitializer: 'constructor' }))],
  [
    'dense initializer {className: __proto__}',
    () => wg.layers.dense(any({ units: 2, kernelInitializer: { className: '__proto__' } })),
  ],
  ['dense initializer null', () => wg.layers.dense(any({ units: 2, kernelInitializer: null }))],
  ['dense regularizer constructor', () => wg.layers.dense(any({ units: 2, kernelRegularizer: 'constructor' }))],
  ['conv2d kernelSize -1', () => wg.layers.conv2d({ filters: 2, kernelSize: -1 })],
  ['conv2d padding __proto__', () => wg.layers.conv2d(any({ filters: 2, kernelSize: 3, padding: '__proto__' }))],
  ['dropout rate 2', () => wg.layers.dropout({ rate: 2 })],
  ['embedding inputDim NaN', () => wg.layers.embedding({ inputDim: Number.NaN, outputDim: 2 })],
  ['lstm units Infinity', () => wg.layers.lstm({ units: Number.POSITIVE_INFINITY })],
  ['reshape targetShape [1.5]', () => wg.layers.reshape({ targetShape: [1.5] })],
  ['sequential with a non-layer', () => wg.sequential(any([{}]))],
  // compile / fit arguments.
  [
    'compile optimizer constructor',
    () =>
      wg
        .sequential([wg.layers.dense({ units: 1, inputShape: [2] })])
        .compile(any({ optimizer: 'constructor', loss: 'mse' })),
  ],
  [
    'compile loss __proto__',
    () =>
      wg
        .sequential([wg.layers.dense({ units: 1, inputShape: [2] })])
        .compile(any({ optimizer: 'sgd', loss: '__proto__' })),
  ],
  [
    'compile metric toString',
    () =>
      wg
        .sequential([wg.layers.dense({ units: 1, inputShape: [2] })])
        .compile(any({ optimizer: 'sgd', loss: 'mse', metrics: ['toString'] })),
  ],
  ['adam learningRate NaN', () => wg.optimizers.adam({ learningRate: Number.NaN })],
  ['sgd learningRate -1', () => wg.optimizers.sgd({ learningRate: -1 })],
  ...[0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY].map(
    (b): Case => [`fit batchSize ${b}`, () => model.fit(live, wg.ones([2, 2]), { batchSize: b })],
  ),
  ...[-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY].map(
    (e): Case => [`fit epochs ${e}`, () => model.fit(live, wg.ones([2, 2]), { epochs: e })],
  ),
  ['fit validationSplit 2', () => model.fit(live, wg.ones([2, 2]), { validationSplit: 2 })],
  ['fit x as a string', () => model.fit(any('x'), wg.ones([2, 2]))],
  ['fit y rows ≠ x rows', () => model.fit(live, wg.ones([3, 2]))],
  ['fit callbacks constructor', () => model.fit(live, wg.ones([2, 2]), any({ callbacks: 'constructor' }))],
  ['predict wrong feature count', () => model.predict(wg.ones([2, 5]))],
  ...[0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY].map(
    (b): Case => [`predict batchSize ${b}`, () => model.predict(live, { batchSize: b })],
  ),
  ['setWeights wrong count', () => model.setWeights([])],
  [
    'modelFromJSON __proto__ class',
    () =>
      wg.modelFromJSON(any({ className: 'Sequential', config: { layers: [{ className: '__proto__', config: {} }] } })),
  ],
  [
    'modelFromJSON polluting JSON',
    () => wg.modelFromJSON(any(JSON.stringify({ className: 'Sequential', config: { layers: [polluted] } }))),
  ],
  [
    'modelFromJSON layer config __proto__',
    () =>
      wg.modelFromJSON(
        '{"className":"Sequential","config":{"layers":[{"className":"Dense","config":{"__proto__":{"units":3},"inputShape":[2]}}]}}',
      ),
  ],
  // Global settings.
  ['setSeed NaN', () => wg.setSeed(Number.NaN)],
  ['setSeed "7"', () => wg.setSeed(any('7'))],
  ['setThreads 0', () => wg.setThreads(0)],
  ['setThreads 1.5', () => wg.setThreads(1.5)],
];

const protoState = () =>
  JSON.stringify([
    Object.getOwnPropertyNames(Object.prototype),
    Object.getOwnPropertyNames(Array.prototype).length,
    Object.getOwnPropertyNames(Function.prototype).length,
  ]);

/** Runs `fn`; resolves to what it threw (sync or async), or 'returned', or 'hang' after 5 s. */
async function outcome(fn: () => unknown): Promise<unknown> {
  try {
    const r = fn();
    if (r && typeof (r as Promise<unknown>).then === 'function') {
      return await Promise.race([
        (r as Promise<unknown>).then(() => 'returned'),
        new Promise((resolve) => setTimeout(() => resolve('hang'), 5000).unref()),
      ]);
    }
    return 'returned';
  } catch (err) {
    return err;
  }
}

describe('hostile API arguments', () => {
  const before = protoState();
  it.each(CASES)('%s → a typed error, Object.prototype intact', async (_what, call) => {
    const got = await outcome(call);
    if (!(got instanceof wg.WasmgradError)) {
      throw new Error(
        `expected a WasmgradError, got ${got instanceof Error ? `${got.constructor.name}: ${got.message}` : String(got)}`,
      );
    }
    expect(protoState()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('the model and runtime still work after all of that', () => {
    const p = model.predict(live);
    expect(p.shape).toEqual([2, 2]);
    expect(Array.from(p.dataSync()).every(Number.isFinite)).toBe(true);
    p.dispose();
  });
});
