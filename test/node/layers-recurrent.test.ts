/**
 * simpleRNN, lstm and gru driven directly through buildMulti/forwardMulti/backwardMulti (the way a
 * graph model drives them): forward against the plain f64 reference of the Keras equations
 * (test/shared/rnn-reference.ts) in both wasm builds, and backpropagation through time — input
 * gradient and the kernel, recurrent kernel and bias gradients, with gradients flowing into every
 * output including the returnState ones — against central finite differences of the reference,
 * over 6 timesteps, with returnSequences on and off and goBackwards. Plus weight layout and
 * initialization, and typed errors for bad options and shapes.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import type { StepContext } from '../../packages/wasmgrad/src/layers/layer.js';
import type { Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { fdVjp, randomValues } from '../shared/gradcheck.js';
import { GATES, type RnnKind, rnnReference } from '../shared/rnn-reference.js';
import { assertClose } from '../shared/tolerance.js';

function context(rt: Runtime): StepContext {
  return {
    rt,
    training: true,
    lossAppliesActivation: false,
    alloc: (count: number) => rt.allocator.arenaAlloc(4 * count, 'test'),
    seed: 1,
    step: 0,
  };
}

/** Allocates the layer's weights in `rt` and writes the given values (in weights order). */
function placeWeights(rt: Runtime, layer: wg.layers.Layer, values: Float64Array[]): void {
  layer.weights.forEach((w, i) => {
    w.ptr = rt.allocF32(w.size, 'test');
    w.grad = rt.allocF32(w.size, 'test');
    rt.write(w.ptr, Float32Array.from(values[i] as Float64Array));
    rt.f32.fill(Number.NaN, w.grad >>> 2, (w.grad >>> 2) + w.size);
  });
}

function makeLayer(kind: RnnKind, args: wg.layers.RNNArgs): wg.layers.RNN {
  if (kind === 'simple') return wg.layers.simpleRNN(args);
  if (kind === 'lstm') return wg.layers.lstm(args);
  return wg.layers.gru(args);
}

interface Case {
  kind: RnnKind;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  useBias?: boolean;
  resetAfter?: boolean;
  gate?: 'sigmoid' | 'hardSigmoid';
}

/** Forward against the f64 reference and every gradient against finite differences. */
async function check(c: Case, simd: boolean, seed: number, dims: [number, number, number, number] = [2, 6, 3, 5]) {
  const rt = await wg.createRuntime({ simd });
  const [B, T, F, U] = dims;
  const { kind: _kind, gate, ...layerArgs } = c;
  const layer = makeLayer(c.kind, {
    units: U,
    ...layerArgs,
    ...(gate ? { recurrentActivation: gate } : {}),
  } as wg.layers.RNNArgs);
  layer.buildMulti([[T, F]]);
  const useBias = c.useBias ?? true;
  const k = GATES[c.kind] * U;
  const x = randomValues(B * T * F, seed, -1, 1);
  const w = randomValues(F * k, seed + 1, -0.6, 0.6);
  const u = randomValues(U * k, seed + 2, -0.6, 0.6);
  const b = randomValues(c.kind === 'gru' && c.resetAfter !== false ? 2 * k : k, seed + 3, -0.5, 0.5);
  placeWeights(rt, layer, useBias ? [w, u, b] : [w, u]);
  const opts = { units: U, batch: B, time: T, features: F, ...c };
  const ref = (xv: Float64Array, wv: Float64Array, uv: Float64Array, bv: Float64Array) =>
    rnnReference(opts, xv, wv, uv, useBias ? bv : null);
  const want = ref(x, w, u, b);
  const wantOuts = [want.out, ...(c.returnState ? [want.h, ...(c.kind === 'lstm' ? [want.c] : [])] : [])];
  expect(layer.outputShapes).toEqual(wantOuts.map((_, i) => (i === 0 && c.returnSequences ? [T, U] : [U])));

  const ctx = context(rt);
  const mark = rt.allocator.arenaMark();
  const xp = ctx.alloc(x.length);
  rt.write(xp, Float32Array.from(x));
  const outs = layer.forwardMulti(ctx, [xp], B);
  expect(outs.length).toBe(wantOuts.length);
  const name = `${c.kind} seq=${c.returnSequences} state=${c.returnState} back=${c.goBackwards} simd=${simd}`;
  outs.forEach((p, i) => {
    const o = wantOuts[i] as Float64Array;
    assertClose(rt.read(p, o.length), o, { atol: 2e-6, rtol: 1e-5 }, `${name} output ${i}`);
  });
  // A random gradient into every output.
  const dys = wantOuts.map((o, i) => randomValues(o.length, seed + 10 + i, -1, 1));
  const dyPtrs = dys.map((d) => {
    const p = ctx.alloc(d.length);
    rt.write(p, Float32Array.from(d));
    return p;
  });
  const [dx] = layer.backwardMulti(ctx, dyPtrs, B, true);
  const objective = (xv: Float64Array, wv: Float64Array, uv: Float64Array, bv: Float64Array) => {
    const r = ref(xv, wv, uv, bv);
    const all = [r.out, ...(c.returnState ? [r.h, ...(c.kind === 'lstm' ? [r.c] : [])] : [])];
    return Float64Array.of(
      all.reduce((s, o, i) => s + o.reduce((a, v, j) => a + v * ((dys[i] as Float64Array)[j] as number), 0), 0),
    );
  };
  const fd = fdVjp(objective, [x, w, u, b], [1]);
  const tol = { atol: 2e-5, rtol: 2e-3 };
  assertClose(rt.read(dx as number, x.length), fd[0] as Float64Array, tol, `${name} dx`);
  const grads = layer.weights.map((wt) => rt.read(wt.grad, wt.size));
  assertClose(grads[0] as Float32Array, fd[1] as Float64Array, tol, `${name} d kernel`);
  assertClose(grads[1] as Float32Array, fd[2] as Float64Array, tol, `${name} d recurrent_kernel`);
  if (useBias) assertClose(grads[2] as Float32Array, fd[3] as Float64Array, tol, `${name} d bias`);
  rt.allocator.arenaReset(mark);
}

describe('recurrent layers: forward against the f64 Keras equations, BPTT against finite differences', () => {
  for (const kind of ['simple', 'lstm', 'gru'] as const) {
    it(`${kind}: returnSequences on/off × goBackwards, both builds`, async () => {
      let seed = 100;
      for (const simd of [true, false])
        for (const returnSequences of [false, true])
          for (const goBackwards of [false, true]) {
            await check({ kind, returnSequences, goBackwards, returnState: false }, simd, seed++);
          }
    });
    it(`${kind}: returnState outputs receive gradients (with and without sequences), no bias`, async () => {
      await check({ kind, returnSequences: true, goBackwards: false, returnState: true }, true, 7);
      await check({ kind, returnSequences: false, goBackwards: true, returnState: true }, true, 8);
      await check({ kind, returnSequences: true, goBackwards: false, returnState: false, useBias: false }, true, 9);
    });
  }

  it('gru with resetAfter false (bias [3·units]): every combination, both builds', async () => {
    let seed = 300;
    for (const simd of [true, false])
      for (const returnSequences of [false, true])
        for (const goBackwards of [false, true]) {
          await check(
            { kind: 'gru', resetAfter: false, returnSequences, goBackwards, returnState: false },
            simd,
            seed++,
          );
        }
    await check(
      { kind: 'gru', resetAfter: false, returnSequences: true, goBackwards: true, returnState: true },
      true,
      9,
    );
    await check(
      { kind: 'gru', resetAfter: false, returnSequences: false, goBackwards: false, returnState: true, useBias: false },
      true,
      10,
    );
  });

  it('hardSigmoid gates (tfjs-layers default) for lstm and gru, both builds', async () => {
    let seed = 700;
    for (const simd of [true, false]) {
      await check(
        { kind: 'lstm', gate: 'hardSigmoid', returnSequences: true, goBackwards: false, returnState: true },
        simd,
        seed++,
      );
      await check(
        { kind: 'gru', gate: 'hardSigmoid', returnSequences: false, goBackwards: true, returnState: true },
        simd,
        seed++,
      );
      await check(
        {
          kind: 'gru',
          gate: 'hardSigmoid',
          resetAfter: false,
          returnSequences: true,
          goBackwards: false,
          returnState: false,
        },
        simd,
        seed++,
      );
    }
    const l = wg.layers.lstm({ units: 2, recurrentActivation: 'hard_sigmoid' as never });
    expect(l.getConfig().recurrentActivation).toBe('hardSigmoid');
  });

  it('edge sizes: one timestep, a batch of one, one unit, wide units', async () => {
    let seed = 500;
    for (const kind of ['simple', 'lstm', 'gru'] as const) {
      for (const dims of [
        [2, 1, 3, 5],
        [1, 5, 1, 1],
        [3, 2, 4, 9],
      ] as [number, number, number, number][]) {
        await check({ kind, returnSequences: true, goBackwards: true, returnState: true }, true, seed++, dims);
      }
    }
  });

  it('simpleRNN with a relu activation', async () => {
    const rt = await wg.createRuntime({ simd: true });
    const [B, T, F, U] = [3, 5, 2, 4];
    const layer = wg.layers.simpleRNN({ units: U, activation: 'relu', returnSequences: true });
    layer.buildMulti([[T, F]]);
    const [x, w, u, b] = [
      randomValues(B * T * F, 1, -1, 1),
      randomValues(F * U, 2, -1, 1),
      randomValues(U * U, 3, -0.5, 0.5),
      randomValues(U, 4, -0.2, 0.2),
    ] as const;
    placeWeights(rt, layer, [w, u, b]);
    const ctx = context(rt);
    const xp = ctx.alloc(x.length);
    rt.write(xp, Float32Array.from(x));
    const [y] = layer.forwardMulti(ctx, [xp], B);
    const want = rnnReference(
      {
        kind: 'simple',
        units: U,
        batch: B,
        time: T,
        features: F,
        returnSequences: true,
        activation: (v) => Math.max(0, v),
      },
      x,
      w,
      u,
      b,
    );
    assertClose(rt.read(y as number, want.out.length), want.out, { atol: 2e-6, rtol: 1e-5 }, 'relu rnn');
  });
});

describe('recurrent layers: weights and errors', () => {
  it('Keras weight layout, unitForgetBias, orthogonal recurrent kernel', async () => {
    await wg.ready();
    wg.setSeed(5);
    const model = wg.sequential([wg.layers.lstm({ units: 4, inputShape: [7, 3] })]);
    model.build();
    expect(model.weights.map((w) => [w.name.split('/')[1], w.shape])).toEqual([
      ['kernel', [3, 16]],
      ['recurrent_kernel', [4, 16]],
      ['bias', [16]],
    ]);
    const [, rk, bias] = model.getWeights().map((t) => Float64Array.from(t.dataSync())) as Float64Array[];
    expect(Array.from(bias as Float64Array)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    // [4, 16] orthogonal: its rows are orthonormal.
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        let d = 0;
        for (let q = 0; q < 16; q++)
          d += ((rk as Float64Array)[i * 16 + q] as number) * ((rk as Float64Array)[j * 16 + q] as number);
        expect(d).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    const gru = wg.sequential([wg.layers.gru({ units: 2, inputShape: [4, 5] })]);
    gru.build();
    expect(gru.weights.map((w) => w.shape)).toEqual([
      [5, 6],
      [2, 6],
      [2, 6],
    ]);
    const rnn = wg.sequential([wg.layers.simpleRNN({ units: 3, inputShape: [4, 5], useBias: false })]);
    rnn.build();
    expect(rnn.weights.map((w) => w.shape)).toEqual([
      [5, 3],
      [3, 3],
    ]);
    expect(rnn.outputShape).toEqual([3]);
    for (const m of [model, gru, rnn]) m.dispose();
  });

  it('bad options and shapes are typed errors naming the layer', () => {
    for (const units of [0, -2, 1.5, Number.NaN, undefined]) {
      expect(() => wg.layers.lstm({ units: units as number, name: 'l0' })).toThrow(/l0.*units/);
      expect(() => wg.layers.gru({ units: units as number })).toThrow(wg.ValueError);
      expect(() => wg.layers.simpleRNN({ units: units as number })).toThrow(wg.ValueError);
    }
    expect(() => wg.layers.lstm({ units: 2, dropout: 0.2 })).toThrow(/dropout/);
    expect(() => wg.layers.gru({ units: 2, recurrentDropout: 0.1 })).toThrow(/recurrentDropout/);
    expect(() => wg.layers.lstm({ units: 2, activation: 'relu' })).toThrow(/activation/);
    expect(() => wg.layers.lstm({ units: 2, recurrentActivation: 'tanh' })).toThrow(/recurrentActivation/);
    expect(() => wg.layers.simpleRNN({ units: 2, activation: 'nope' as never })).toThrow(/unknown activation/);
    // Rank: [batch, time, features] only.
    const a = wg.layers.lstm({ units: 2, name: 'rank_check' });
    expect(() => a.build([5])).toThrow(wg.ShapeError);
    expect(() => a.build([5])).toThrow(/rank_check.*\[5\]/);
    expect(() => a.build([2, 3, 4])).toThrow(wg.ShapeError);
    // Sequence length inconsistent with the built shape.
    const b = wg.layers.gru({ units: 2, name: 'len_check' });
    b.build([5, 3]);
    expect(() => b.build([6, 3])).toThrow(/len_check.*\[5,3\].*\[6,3\]/);
    const c = wg.layers.simpleRNN({ units: 2, returnState: true });
    c.buildMulti([[4, 3]]);
    expect(() =>
      c.buildMulti([
        [4, 3],
        [4, 3],
      ]),
    ).toThrow(wg.ShapeError);
    expect(c.outputShapes).toEqual([[2], [2]]);
  });
});
