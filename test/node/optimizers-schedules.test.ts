/**
 * Learning-rate schedules: values against the Keras 3 formulas (written out by hand at chosen steps,
 * including staircase, cycle and warmup boundaries), a model trained with scheduled SGD against a
 * plain f64 reference of SGD under that schedule, config round trips (also through the worker's
 * optimizer spec), and typed errors.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { resolveOptimizer } from '../../packages/wasmgrad/src/worker/host.js';
import { assertClose } from '../shared/tolerance.js';

const s = wg.schedules;
const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-15 * Math.abs(want));

describe('schedule values (Keras formulas)', () => {
  it('exponentialDecay, continuous and staircase', () => {
    const e = s.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    close(e.at(0), 0.1);
    close(e.at(5), 0.1 * Math.SQRT1_2);
    close(e.at(10), 0.05);
    close(e.at(25), 0.1 * 0.5 ** 2.5);
    const st = s.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    close(st.at(9), 0.1);
    close(st.at(10), 0.05);
    close(st.at(19), 0.05);
    close(st.at(20), 0.025);
  });

  it('inverseTimeDecay, continuous and staircase', () => {
    const e = s.inverseTimeDecay({ initialLearningRate: 0.2, decaySteps: 4, decayRate: 0.5 });
    close(e.at(0), 0.2);
    close(e.at(2), 0.2 / 1.25);
    close(e.at(8), 0.1);
    const st = s.inverseTimeDecay({ initialLearningRate: 0.2, decaySteps: 4, decayRate: 0.5, staircase: true });
    close(st.at(3), 0.2);
    close(st.at(4), 0.2 / 1.5);
  });

  it('piecewiseConstant: values[i] up to and including boundaries[i]', () => {
    const p = s.piecewiseConstant({ boundaries: [3, 7], values: [1, 0.5, 0.1] });
    expect([0, 3, 4, 7, 8, 1000].map((t) => p.at(t))).toEqual([1, 1, 0.5, 0.5, 0.1, 0.1]);
    const one = s.piecewiseConstant({ boundaries: [], values: [0.3] });
    expect(one.at(99)).toBe(0.3);
  });

  it('polynomialDecay: clamps at decaySteps, or cycles with a growing period', () => {
    const p = s.polynomialDecay({ initialLearningRate: 1, decaySteps: 10, endLearningRate: 0.1, power: 2 });
    close(p.at(0), 1);
    close(p.at(5), 0.9 * 0.25 + 0.1);
    close(p.at(10), 0.1);
    close(p.at(50), 0.1);
    expect(s.polynomialDecay({ initialLearningRate: 1, decaySteps: 10 }).at(5)).toBeCloseTo(
      (1 - 1e-4) * 0.5 + 1e-4,
      15,
    );
    const c = s.polynomialDecay({ initialLearningRate: 1, decaySteps: 10, endLearningRate: 0, cycle: true });
    close(c.at(0), 1);
    close(c.at(10), 0); // ceil(10/10) = 1: the end of the first period
    close(c.at(11), 1 - 11 / 20); // period 20 from here
    close(c.at(25), 1 - 25 / 30);
  });

  it('cosineDecay without warmup: cosine to alpha·initial, then flat', () => {
    const c = s.cosineDecay({ initialLearningRate: 0.1, decaySteps: 100, alpha: 0.1 });
    close(c.at(0), 0.1);
    close(c.at(50), 0.1 * (0.9 * 0.5 + 0.1));
    close(c.at(25), 0.1 * (0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)) + 0.1));
    close(c.at(100), 0.01);
    close(c.at(1000), 0.01);
  });

  it('cosineDecay with linear warmup (Keras 3): rises to warmupTarget, then decays from it', () => {
    const c = s.cosineDecay({ initialLearningRate: 0, decaySteps: 10, warmupTarget: 0.2, warmupSteps: 4 });
    close(c.at(0), 0);
    close(c.at(1), 0.05);
    close(c.at(3), 0.15);
    close(c.at(4), 0.2); // warmup over: cosine at 0 of the target
    close(c.at(9), 0.2 * 0.5 * (1 + Math.cos(Math.PI / 2)));
    close(c.at(14), 0);
    close(c.at(40), 0);
    const from = s.cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupTarget: 0.3, warmupSteps: 2 });
    close(from.at(1), 0.2);
  });
});

describe('optimizers with a schedule', () => {
  it('report the scheduled rate at their iteration count and refuse to have it set', async () => {
    await wg.ready();
    const sched = s.piecewiseConstant({ boundaries: [1], values: [0.5, 0.25] });
    const opt = wg.optimizers.adam({ learningRate: sched });
    expect(opt.learningRate).toBe(0.5);
    opt.iterations = 2;
    expect(opt.learningRate).toBe(0.25);
    expect(() => {
      opt.learningRate = 0.1;
    }).toThrow(/PiecewiseConstantDecay schedule and cannot be set/);
    const plain = wg.optimizers.sgd({ learningRate: 0.1 });
    plain.learningRate = 0.05;
    expect(plain.learningRate).toBe(0.05);
    expect(() => {
      plain.learningRate = -1;
    }).toThrow(wg.ValueError);
  });

  it('SGD under a schedule trains like an f64 reference applying schedule(t) at update t (t from 0)', async () => {
    await wg.ready();
    wg.setSeed(11);
    const sched = s.exponentialDecay({ initialLearningRate: 0.2, decaySteps: 2, decayRate: 0.5, staircase: true });
    const model = wg.sequential([wg.layers.dense({ units: 2, inputShape: [3] })]);
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: sched }), loss: 'meanSquaredError' });
    const xs = [0.5, -1, 2, 1, 0.3, -0.2, -0.7, 0.1, 0.9, 0.2, -0.4, 1.5];
    const ys = [1, 0, 0, 1, 0.5, 0.5, -1, 1];
    const [k0, b0] = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    const W = k0 as Float64Array; // [3, 2]
    const b = b0 as Float64Array;
    const seenRates: number[] = [];
    const steps = 6;
    await model.fit(wg.tensor(xs, [4, 3]), wg.tensor(ys, [4, 2]), {
      epochs: steps,
      batchSize: 4,
      shuffle: false,
      callbacks: [{ onBatchEnd: () => void seenRates.push(model.optimizer.learningRate) }],
    });
    // Reference: MSE = mean over the 8 outputs; dL/dy = 2(y − t)/8.
    for (let t = 0; t < steps; t++) {
      const lr = 0.2 * 0.5 ** Math.floor(t / 2);
      const gW = new Float64Array(6);
      const gb = new Float64Array(2);
      for (let n = 0; n < 4; n++) {
        for (let j = 0; j < 2; j++) {
          let y = b[j] as number;
          for (let i = 0; i < 3; i++) y += (xs[n * 3 + i] as number) * (W[i * 2 + j] as number);
          const d = (2 * (y - (ys[n * 2 + j] as number))) / 8;
          gb[j] = (gb[j] as number) + d;
          for (let i = 0; i < 3; i++) gW[i * 2 + j] = (gW[i * 2 + j] as number) + d * (xs[n * 3 + i] as number);
        }
      }
      for (let i = 0; i < 6; i++) W[i] = (W[i] as number) - lr * (gW[i] as number);
      for (let j = 0; j < 2; j++) b[j] = (b[j] as number) - lr * (gb[j] as number);
    }
    const [kw, bw] = model.getWeights().map((t) => t.dataSync());
    assertClose(kw as Float32Array, W, { atol: 1e-6, rtol: 1e-5 });
    assertClose(bw as Float32Array, b, { atol: 1e-6, rtol: 1e-5 });
    // After update t (1-based) the optimizer reports the rate of the next update, schedule(t).
    expect(seenRates).toEqual([1, 2, 3, 4, 5, 6].map((t) => sched.at(t)));
    expect(model.optimizer.iterations).toBe(steps);
  });

  it('count their own iterations: a fresh optimizer compiled onto a trained model starts at step 0 (schedule and Adam bias correction)', async () => {
    await wg.ready();
    wg.setSeed(3);
    const model = wg.sequential([wg.layers.dense({ units: 2, inputShape: [3] })]);
    const x = wg.tensor([0.5, -1, 2, 1, 0.3, -0.2], [2, 3]);
    const y = wg.tensor([1, 0, 0, 1], [2, 2]);
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    for (let i = 0; i < 4; i++) model.trainOnBatch(x, y);
    expect(model.optimizer.iterations).toBe(4);
    // Rate 0.5 for the first update only: a count carried over from the model would give 0.
    const learningRate = s.piecewiseConstant({ boundaries: [0], values: [0.5, 0] });
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate }), loss: 'meanSquaredError' });
    const before = model.getWeights().map((t) => Array.from(t.dataSync()));
    const grads = model.lossAndGradients(x, y).grads.map((t) => Array.from(t.dataSync()));
    model.trainOnBatch(x, y);
    const after = model.getWeights().map((t) => Array.from(t.dataSync()));
    after.forEach((w, i) => {
      assertClose(
        Float32Array.from(w),
        Float64Array.from(before[i] as number[], (v, j) => v - 0.5 * ((grads[i] as number[])[j] as number)),
        { atol: 1e-6, rtol: 1e-6 },
      );
    });
    // Adam's first update is lr·sign(g) only when bias correction uses t = 1.
    model.compile({ optimizer: wg.optimizers.adam({ learningRate: 0.01 }), loss: 'meanSquaredError' });
    const w0 = model.getWeights().map((t) => Array.from(t.dataSync()));
    model.trainOnBatch(x, y);
    const w1 = model.getWeights().map((t) => Array.from(t.dataSync()));
    w1.flat().forEach((v, j) => {
      expect(Math.abs(v - (w0.flat()[j] as number))).toBeCloseTo(0.01, 5);
    });
  });

  it('refuse learning-rate callbacks when training begins', async () => {
    await wg.ready();
    const model = wg.sequential([wg.layers.dense({ units: 1, inputShape: [2] })]);
    const learningRate = s.cosineDecay({ initialLearningRate: 0.1, decaySteps: 10 });
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate }), loss: 'meanSquaredError' });
    const x = wg.tensor([1, 2, 3, 4], [2, 2]);
    const y = wg.tensor([1, 2], [2, 1]);
    for (const cb of [
      wg.callbacks.reduceLROnPlateau({ monitor: 'loss' }),
      wg.callbacks.learningRateScheduler(() => 1),
    ]) {
      await expect(model.fit(x, y, { epochs: 1, batchSize: 2, callbacks: [cb] })).rejects.toThrow(
        /follows a CosineDecay schedule/,
      );
    }
  });
});

describe('serialization', () => {
  const all = [
    s.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.9, staircase: true }),
    s.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.9 }),
    s.piecewiseConstant({ boundaries: [2, 5], values: [0.3, 0.2, 0.1] }),
    s.polynomialDecay({ initialLearningRate: 0.1, decaySteps: 7, power: 0.5, cycle: true }),
    s.cosineDecay({ initialLearningRate: 0.01, decaySteps: 20, alpha: 0.2, warmupTarget: 0.1, warmupSteps: 5 }),
  ];

  it('every schedule round-trips through JSON and the closed registry with the same values', () => {
    for (const sched of all) {
      const back = s.fromConfig(JSON.parse(JSON.stringify(sched.toJSON())));
      expect(back.className).toBe(sched.className);
      expect(back.getConfig()).toEqual(sched.getConfig());
      for (const t of [0, 1, 4, 5, 6, 13, 30]) expect(back.at(t)).toBe(sched.at(t));
    }
  });

  it("an optimizer's getConfig carries its schedule, and the worker's spec resolver rebuilds it", () => {
    const opt = wg.optimizers.adam({ learningRate: all[4] as wg.LearningRateSchedule, beta1: 0.8 });
    const spec = JSON.parse(JSON.stringify({ className: opt.className, config: opt.getConfig() }));
    expect(spec.config.learningRate).toEqual(all[4]?.toJSON());
    const rebuilt = resolveOptimizer(spec);
    expect(rebuilt.schedule?.className).toBe('CosineDecay');
    expect(rebuilt.getConfig()).toEqual(opt.getConfig());
    rebuilt.iterations = 7;
    expect(rebuilt.learningRate).toBe(all[4]?.at(7));
  });

  it('unknown classes and prototype names are refused', () => {
    for (const className of ['Evil', '__proto__', 'constructor', 'toString']) {
      expect(() => s.fromConfig({ className, config: {} })).toThrow(/unknown schedule class/);
    }
    expect(() => s.fromConfig(null)).toThrow(wg.ValueError);
    expect(() => wg.optimizers.sgd({ learningRate: { className: 'Nope', config: {} } })).toThrow(wg.ValueError);
  });
});

describe('bad arguments → ValueError naming the schedule and the value', () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => s.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 }),
      /ExponentialDecay: decaySteps .* got 0/,
    ],
    [
      () => s.exponentialDecay({ initialLearningRate: -1, decaySteps: 1, decayRate: 0.5 }),
      /ExponentialDecay: initialLearningRate .* got -1/,
    ],
    [
      () => s.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: -2, decayRate: 1 }),
      /InverseTimeDecay: decaySteps .* got -2/,
    ],
    [
      () => s.piecewiseConstant({ boundaries: [5, 5], values: [1, 2, 3] }),
      /PiecewiseConstantDecay: boundaries must be strictly increasing, got \[5,5\]/,
    ],
    [
      () => s.piecewiseConstant({ boundaries: [1, 2], values: [1, 2] }),
      /PiecewiseConstantDecay: values .* \(3\), got 2/,
    ],
    [() => s.piecewiseConstant({ boundaries: [1], values: [1, Number.NaN] }), /values\[1\] .* got NaN/],
    [
      () => s.polynomialDecay({ initialLearningRate: 0.1, decaySteps: Number.POSITIVE_INFINITY }),
      /PolynomialDecay: decaySteps .* got Infinity/,
    ],
    [
      () => s.polynomialDecay({ initialLearningRate: 0.1, decaySteps: 3, power: -1 }),
      /PolynomialDecay: power .* got -1/,
    ],
    [() => s.cosineDecay({ initialLearningRate: 0.1, decaySteps: 0 }), /CosineDecay: decaySteps .* got 0/],
    [
      () => s.cosineDecay({ initialLearningRate: 0.1, decaySteps: 5, alpha: 2 }),
      /CosineDecay: alpha must be in \[0, 1\], got 2/,
    ],
    [
      () => s.cosineDecay({ initialLearningRate: 0.1, decaySteps: 5, warmupSteps: -1 }),
      /CosineDecay: warmupSteps .* got -1/,
    ],
    [
      () => s.cosineDecay({ initialLearningRate: 0.1, decaySteps: 5, warmupTarget: Number.NaN }),
      /CosineDecay: warmupTarget .* got NaN/,
    ],
    [() => s.exponentialDecay(undefined as never), /ExponentialDecay: initialLearningRate .* got undefined/],
    [() => s.exponentialDecay(3 as never), /ExponentialDecay: expects an options object, got 3/],
  ];
  it.each(cases.map((c, i) => [i, ...c] as const))('case %i', (_i, make, message) => {
    expect(make).toThrow(wg.ValueError);
    expect(make).toThrow(message);
  });
});
