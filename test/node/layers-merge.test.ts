/**
 * Merge layers (add, subtract, multiply, average, maximum, minimum, concatenate) inside graph
 * models: two or three tanh branches from one input merge into a dense head; the MSE gradient of
 * every weight (which flows through the merge's backward into each branch) against central finite
 * differences of an f64 reference. Derivatives: add ∂y/∂x_k = 1, subtract ±1, average 1/N,
 * multiply Π_{j≠k} x_j, maximum/minimum 1 for the winning input, concatenate the matching slice.
 * Also shape errors that name the layer and the shapes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { checkModelGradients, concatLast, dense, type F64, merge } from '../shared/functional-ref.js';

type Sym = wg.SymbolicTensor;
const ROWS = 5;
const IN = 4;

beforeAll(async () => {
  await wg.ready();
});

const KINDS = ['add', 'subtract', 'multiply', 'average', 'maximum', 'minimum'] as const;

describe('elementwise merges', () => {
  for (const kind of KINDS) {
    for (const branches of kind === 'subtract' ? [2] : [2, 3]) {
      it(`${kind} of ${branches} branches: gradients match finite differences`, () => {
        const x = wg.input({ shape: [IN] });
        const hs = Array.from(
          { length: branches },
          () => wg.layers.dense({ units: 3, activation: 'tanh' }).apply(x) as Sym,
        );
        const m = wg.layers[kind]().apply(hs) as Sym;
        const out = wg.layers.dense({ units: 2 }).apply(m) as Sym;
        const model = wg.model({ inputs: x, outputs: out });
        const forward = (w: F64[], xv: F64) => {
          const branchOut = hs.map((_, k) => dense(xv, w[2 * k] as F64, w[2 * k + 1] as F64, IN, 'tanh'));
          return dense(merge(kind, branchOut), w[2 * branches] as F64, w[2 * branches + 1] as F64, 3);
        };
        expect(checkModelGradients(model, forward, ROWS, 11 + branches)).toBe(branches * 15 + 8);
        model.dispose();
      });
    }
  }
});

describe('concatenate', () => {
  it('last axis of [3] and [2] branches: gradients match finite differences', () => {
    const x = wg.input({ shape: [IN] });
    const a = wg.layers.dense({ units: 3, activation: 'tanh' }).apply(x) as Sym;
    const b = wg.layers.dense({ units: 2, activation: 'tanh' }).apply(x) as Sym;
    const c = wg.layers.concatenate().apply([a, b]) as Sym;
    expect(c.shape).toEqual([null, 5]);
    const model = wg.model({ inputs: x, outputs: wg.layers.dense({ units: 2 }).apply(c) as Sym });
    const forward = (w: F64[], xv: F64) =>
      dense(
        concatLast(
          [dense(xv, w[0] as F64, w[1] as F64, IN, 'tanh'), dense(xv, w[2] as F64, w[3] as F64, IN, 'tanh')],
          [3, 2],
        ),
        w[4] as F64,
        w[5] as F64,
        5,
      );
    expect(checkModelGradients(model, forward, ROWS, 21)).toBe(15 + 10 + 12);
  });

  it('axis 1 of [2,3] and [1,3] samples (the first non-batch axis) and axis -1 of [2,3] and [2,1]', () => {
    for (const [axis, second, joined] of [
      [1, [1, 3], [3, 3]],
      [-1, [2, 1], [2, 4]],
    ] as const) {
      const x = wg.input({ shape: [IN] });
      const a = wg.layers
        .reshape({ targetShape: [2, 3] })
        .apply(wg.layers.dense({ units: 6, activation: 'tanh' }).apply(x) as Sym) as Sym;
      const bUnits = second[0] * second[1];
      const b = wg.layers
        .reshape({ targetShape: [...second] })
        .apply(wg.layers.dense({ units: bUnits, activation: 'tanh' }).apply(x) as Sym) as Sym;
      const c = wg.layers.concatenate({ axis }).apply([a, b]) as Sym;
      expect(c.shape).toEqual([null, ...joined]);
      const flat = wg.layers.flatten().apply(c) as Sym;
      const model = wg.model({ inputs: x, outputs: wg.layers.dense({ units: 2 }).apply(flat) as Sym });
      const forward = (w: F64[], xv: F64) => {
        const av = dense(xv, w[0] as F64, w[1] as F64, IN, 'tanh');
        const bv = dense(xv, w[2] as F64, w[3] as F64, IN, 'tanh');
        // Per sample: axis 1 stacks the flattened blocks; axis -1 interleaves rows of 3 and 1.
        const cat = axis === 1 ? concatLast([av, bv], [6, bUnits]) : concatLast([av, bv], [3, 1]);
        return dense(cat, w[4] as F64, w[5] as F64, 6 + bUnits);
      };
      checkModelGradients(model, forward, ROWS, 23);
    }
  });
});

describe('bad input', () => {
  const x = () => wg.input({ shape: [4] });
  it('elementwise merges of different shapes name the layer and the shapes', () => {
    const i = x();
    const a = wg.layers.dense({ units: 3 }).apply(i) as Sym;
    const b = wg.layers.dense({ units: 2 }).apply(i) as Sym;
    expect(() => wg.layers.add({ name: 'sum_ab' }).apply([a, b])).toThrow(wg.ShapeError);
    expect(() => wg.layers.add({ name: 'sum_ab2' }).apply([a, b])).toThrow(
      /sum_ab2: needs inputs of one shape, got \[3\], \[2\]/,
    );
    expect(() => wg.layers.multiply().apply([a])).toThrow(/takes at least 2 inputs, got 1/);
    expect(() => wg.layers.subtract().apply([a, a, a])).toThrow(/takes 2 inputs, got 3/);
  });
  it('concatenate checks ranks, the other axes and the axis', () => {
    const i = x();
    const a = wg.layers.reshape({ targetShape: [2, 2] }).apply(i) as Sym;
    const b = wg.layers.reshape({ targetShape: [4, 1] }).apply(i) as Sym;
    expect(() => wg.layers.concatenate({ name: 'cat_x' }).apply([a, b])).toThrow(
      /cat_x: inputs must agree on every axis but -1, got \[2,2\], \[4,1\]/,
    );
    expect(() => wg.layers.concatenate().apply([a, i])).toThrow(/needs inputs of one rank, got \[2,2\], \[4\]/);
    expect(() => wg.layers.concatenate({ axis: 3 }).apply([a, a])).toThrow(/axis 3 is out of range/);
    expect(() => wg.layers.concatenate({ axis: 0 })).toThrow(wg.ValueError);
  });
  it('a merge layer in a Sequential model says it needs several inputs', () => {
    const model = wg.sequential([wg.layers.dense({ units: 2, inputShape: [3] }), wg.layers.add()]);
    expect(() => model.build()).toThrow(/merges several inputs/);
  });
  it('JSON round trip keeps the merge classes and the axis', () => {
    const i = x();
    const a = wg.layers.reshape({ targetShape: [2, 2] }).apply(i) as Sym;
    const c = wg.layers.concatenate({ axis: 1 }).apply([a, a]) as Sym;
    const m = wg.layers.maximum().apply([c, c]) as Sym;
    const json = wg.model({ inputs: i, outputs: m }).toJSON();
    const back = wg.modelFromJSON(JSON.parse(JSON.stringify(json)) as wg.FunctionalJSON);
    expect(back.toJSON().config.layers.map((l) => l.className)).toEqual([
      'InputLayer',
      'Reshape',
      'Concatenate',
      'Maximum',
    ]);
    expect(back.outputShape).toEqual([4, 2]);
  });
});
