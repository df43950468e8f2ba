/**
 * The functional API: wg.input, layer.apply, wg.model. A graph whose tensors feed several layers
 * (gradients summed) against f64 finite differences; a functional chain equal to a Sequential
 * model (same weights → bit-equal predictions, gradients and training); save/load and
 * toJSON/modelFromJSON round trips with equal predictions; typed errors for malformed graphs;
 * several inputs; training in a worker (the compiled entry in dist/, as trainer.test.ts: build it
 * first with `tsc -p packages/wasmgrad/tsconfig.json`).
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { Conv2D } from '../../packages/wasmgrad/src/layers/conv.js';
import { checkModelGradients, concatLast, dense, type F64, merge } from '../shared/functional-ref.js';

type Sym = wg.SymbolicTensor;

beforeAll(async () => {
  await wg.ready();
});

const data = (rows: number, cols: number, seed: number) => {
  wg.setSeed(seed);
  return wg.randomNormal([rows, cols]);
};

describe('graph execution', () => {
  it('a branch-and-merge graph with a tensor feeding three layers: gradients match finite differences', () => {
    // x → h = tanh(dense) ; r = tanh(dense(h)) ; s = add(h, r) ; c = concat(s, h, x) ; out = dense(c)
    const x = wg.input({ shape: [3] });
    const h = wg.layers.dense({ units: 4, activation: 'tanh' }).apply(x) as Sym;
    const r = wg.layers.dense({ units: 4, activation: 'tanh' }).apply(h) as Sym;
    const s = wg.layers.add().apply([h, r]) as Sym;
    const c = wg.layers.concatenate().apply([s, h, x]) as Sym;
    const out = wg.layers.dense({ units: 2 }).apply(c) as Sym;
    const model = wg.model({ inputs: x, outputs: out });
    expect(model.layers.map((l) => l.className)).toEqual([
      'InputLayer',
      'Dense',
      'Dense',
      'Add',
      'Concatenate',
      'Dense',
    ]);
    const forward = (w: F64[], xv: F64) => {
      const hv = dense(xv, w[0] as F64, w[1] as F64, 3, 'tanh');
      const rv = dense(hv, w[2] as F64, w[3] as F64, 4, 'tanh');
      const cv = concatLast([merge('add', [hv, rv]), hv, xv], [4, 4, 3]);
      return dense(cv, w[4] as F64, w[5] as F64, 11);
    };
    expect(checkModelGradients(model, forward, 6, 5)).toBe(16 + 20 + 24);
  });

  it('an input used directly by two layers and an identity path', () => {
    const x = wg.input({ shape: [3] });
    const a = wg.layers.dense({ units: 3, activation: 'tanh' }).apply(x) as Sym;
    const out = wg.layers.dense({ units: 1 }).apply(wg.layers.multiply().apply([a, x]) as Sym) as Sym;
    const model = wg.model({ inputs: x, outputs: out });
    const forward = (w: F64[], xv: F64) =>
      dense(merge('multiply', [dense(xv, w[0] as F64, w[1] as F64, 3, 'tanh'), xv]), w[2] as F64, w[3] as F64, 3);
    checkModelGradients(model, forward, 4, 9);
  });

  it('a functional chain equals the Sequential model with the same weights, bit for bit', async () => {
    const seq = wg.sequential([
      wg.layers.dense({ units: 8, activation: 'relu', inputShape: [5] }),
      wg.layers.dropout({ rate: 0.25, seed: 7 }),
      wg.layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    const x = wg.input({ shape: [5] });
    let h = wg.layers.dense({ units: 8, activation: 'relu' }).apply(x) as Sym;
    h = wg.layers.dropout({ rate: 0.25, seed: 7 }).apply(h) as Sym;
    const fn = wg.model({ inputs: x, outputs: wg.layers.dense({ units: 3, activation: 'softmax' }).apply(h) as Sym });
    fn.setWeights(seq.getWeights());
    for (const m of [seq, fn])
      m.compile({
        optimizer: wg.optimizers.adam({ learningRate: 0.01 }),
        loss: 'categoricalCrossentropy',
        metrics: ['accuracy'],
      });
    const xs = data(40, 5, 3);
    const labels = wg.tensor(
      Array.from({ length: 40 }, (_, i) => [i % 3 === 0 ? 1 : 0, i % 3 === 1 ? 1 : 0, i % 3 === 2 ? 1 : 0]).flat(),
      [40, 3],
    );
    expect(Array.from(fn.predict(xs).dataSync())).toEqual(Array.from(seq.predict(xs).dataSync()));
    const gs = seq.lossAndGradients(xs, labels);
    const gf = fn.lossAndGradients(xs, labels);
    expect(gf.loss).toBe(gs.loss);
    gs.grads.forEach((g, i) => {
      expect(Array.from((gf.grads[i] as wg.Tensor).dataSync())).toEqual(Array.from(g.dataSync()));
    });
    const hs = await seq.fit(xs, labels, { epochs: 3, batchSize: 8, seed: 42, validationSplit: 0.25 });
    const hf = await fn.fit(xs, labels, { epochs: 3, batchSize: 8, seed: 42, validationSplit: 0.25 });
    expect(hf.history).toEqual(hs.history);
    expect(fn.evaluate(xs, labels)).toEqual(seq.evaluate(xs, labels));
    expect(fn.trainOnBatch(xs, labels)).toBe(seq.trainOnBatch(xs, labels));
    const fw = fn.getWeights();
    for (const [i, w] of seq.getWeights().entries()) {
      expect(Array.from((fw[i] as wg.Tensor).dataSync())).toEqual(Array.from(w.dataSync()));
    }
  });
});

describe('inference fusion', () => {
  it('fuses a conv into the max pooling that alone reads it, keeps a conv read twice unfused, and matches the unfused graph bit for bit', async () => {
    await wg.ready();
    wg.setSeed(21);
    const build = (split: boolean) => {
      const gap = (t: Sym) => (split ? (wg.layers.activation({ activation: 'linear' }).apply(t) as Sym) : t);
      const input = wg.input({ shape: [8, 8, 2] });
      const conv = { kernelSize: 3, padding: 'same' as const, activation: 'relu' as const };
      // Branch a: conv → pool (fusable). Branch b: conv read by a pool and by flatten (not).
      const conv1 = wg.layers.conv2d({ filters: 4, ...conv }).apply(input) as Sym;
      const a = wg.layers.maxPooling2d({ poolSize: 2 }).apply(gap(conv1)) as Sym;
      const cb = wg.layers.conv2d({ filters: 4, ...conv }).apply(input) as Sym;
      const b = wg.layers.maxPooling2d({ poolSize: 2 }).apply(cb) as Sym;
      const flats = [a, b, cb].map((t) => wg.layers.flatten().apply(t) as Sym);
      const flat = wg.layers.concatenate().apply(flats) as Sym;
      return wg.model({ inputs: input, outputs: wg.layers.dense({ units: 3 }).apply(flat) as Sym });
    };
    const fused = build(false);
    const plain = build(true);
    plain.setWeights(fused.getWeights());
    const x = wg.randomUniform([5, 8, 8, 2], -1, 1, 4);
    const spy = vi.spyOn(Conv2D.prototype, 'forwardMaxPool2');
    const got = fused.predict(x).dataSync();
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockClear();
    const want = plain.predict(x).dataSync();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(Array.from(got)).toEqual(Array.from(want));
    fused.dispose();
    plain.dispose();
  });
});

describe('layers with several outputs', () => {
  it('an LSTM with returnState: the state output h (= the last output) gives the same predictions and gradients', () => {
    const make = (viaState: boolean) => {
      const x = wg.input({ shape: [5, 3] });
      const lstm = wg.layers.lstm({ units: 4, returnState: viaState });
      const outs = lstm.apply(x);
      // [output, h, c]: feed h, leaving the output and c without gradient (0 in backwardMulti).
      const h = viaState ? ((outs as Sym[])[1] as Sym) : (outs as Sym);
      return wg.model({ inputs: x, outputs: wg.layers.dense({ units: 2 }).apply(h) as Sym });
    };
    const [plain, state] = [make(false), make(true)];
    state.setWeights(plain.getWeights());
    for (const m of [plain, state]) m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const xs = wg.randomNormal([6, 5, 3]);
    const ys = wg.randomNormal([6, 2]);
    expect(Array.from(state.predict(xs).dataSync())).toEqual(Array.from(plain.predict(xs).dataSync()));
    const a = plain.lossAndGradients(xs, ys);
    const b = state.lossAndGradients(xs, ys);
    expect(b.loss).toBe(a.loss);
    for (const [i, g] of a.grads.entries()) {
      expect(Array.from((b.grads[i] as wg.Tensor).dataSync())).toEqual(Array.from(g.dataSync()));
    }
  });
});

describe('serialization', () => {
  const dcn = () => {
    const x = wg.input({ shape: [6], name: 'features' });
    const c1 = wg.layers.cross({ name: 'cross_a' }).apply(x) as Sym;
    const c2 = wg.layers.cross({ projectionDim: 2, useBias: false }).apply([x, c1]) as Sym;
    const d = wg.layers.dense({ units: 5, activation: 'relu' }).apply(x) as Sym;
    const cat = wg.layers.concatenate().apply([c2, d]) as Sym;
    const out = wg.layers.dense({ units: 1, activation: 'sigmoid' }).apply(cat) as Sym;
    return wg.model({ inputs: x, outputs: out, name: 'dcn' });
  };

  it('save → loadModel gives the same graph, weights and predictions; it trains on', async () => {
    const model = dcn();
    model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const xs = data(32, 6, 8);
    const ys = wg.tensor(
      Array.from({ length: 32 }, (_, i) => i % 2),
      [32, 1],
    );
    await model.fit(xs, ys, { epochs: 2, batchSize: 8, seed: 1 });
    const saved = await model.save();
    const loaded = await wg.loadModel(saved);
    expect(loaded).toBeInstanceOf(wg.Functional);
    expect(loaded.toJSON()).toEqual(model.toJSON());
    expect(Array.from(loaded.predict(xs).dataSync())).toEqual(Array.from(model.predict(xs).dataSync()));
    loaded.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
    const h = await loaded.fit(xs, ys, { epochs: 2, batchSize: 8 });
    expect(h.history.loss?.every(Number.isFinite)).toBe(true);
    expect(loaded.getLayer('cross_a').countParams()).toBe(42);
    expect(() => loaded.getLayer('nope')).toThrow(/has no layer 'nope'; layers: features, cross_a/);
    const text = loaded.summary(() => {});
    expect(text).toMatch(/cross_a \(Cross\)\s+\[null,6\]\s+42\s+features\[0\]\[0\]/);
  });

  it('toJSON is the Keras layout and modelFromJSON (object or string, className Model too) rebuilds it', () => {
    const model = dcn();
    const json = model.toJSON();
    expect(json.className).toBe('Functional');
    expect(json.config.inputLayers).toEqual([['features', 0, 0]]);
    const c2 = json.config.layers[2];
    expect(c2?.inboundNodes).toEqual([
      [
        ['features', 0, 0, {}],
        ['cross_a', 0, 0, {}],
      ],
    ]);
    const fromString = wg.modelFromJSON(JSON.stringify(json));
    expect(fromString).toBeInstanceOf(wg.Functional);
    const asModel = wg.modelFromJSON({ ...json, className: 'Model' } as unknown as wg.FunctionalJSON);
    fromString.setWeights(model.getWeights());
    asModel.setWeights(model.getWeights());
    const xs = data(4, 6, 2);
    expect(Array.from(fromString.predict(xs).dataSync())).toEqual(Array.from(model.predict(xs).dataSync()));
    expect(asModel.countParams()).toBe(model.countParams());
  });
});

describe('bad graphs → typed errors', () => {
  const base = () => {
    const x = wg.input({ shape: [3], name: 'in' });
    const h = wg.layers.dense({ units: 2, name: 'h' }).apply(x) as Sym;
    const o = wg.layers.dense({ units: 1, name: 'o' }).apply(h) as Sym;
    return wg.model({ inputs: x, outputs: o }).toJSON();
  };
  type Entry = { name: string; className: string; config: { name: string }; inboundNodes: unknown[] };
  const edit = (f: (layers: Entry[]) => void) => {
    const json = JSON.parse(JSON.stringify(base()));
    f(json.config.layers);
    return json;
  };
  const inbound = (i: number, nodes: unknown[]) =>
    edit((l) => {
      (l[i] as Entry).inboundNodes = nodes;
    });

  it('modelFromJSON rejects unknown references, cycles, duplicate names, repeated calls and bad refs', () => {
    const duplicate = edit((l) => {
      (l[2] as Entry).name = 'h';
      (l[2] as Entry).config.name = 'h';
    });
    const cases: [unknown, RegExp][] = [
      [inbound(2, [[['nowhere', 0, 0, {}]]]), /layer 'o' refers to unknown layer 'nowhere'/],
      [inbound(1, [[['o', 0, 0, {}]]]), /cycle: (h → o → h|o → h → o)/],
      [inbound(1, [[['h', 0, 0, {}]]]), /cycle: h → h/],
      [duplicate, /duplicate layer name 'h'/],
      [inbound(2, [[['h', 0, 0]], [['in', 0, 0]]]), /'o' is called 2 times/],
      [inbound(2, [[['h', 1, 0]]]), /refers to call 1 of layer 'h'/],
      [inbound(2, [[['h', 0, 5]]]), /asks for output 5 of layer 'h', which has 1/],
      [inbound(2, [[['h', '0', 0]]]), /must be \[layerName, nodeIndex, tensorIndex\]/],
      [inbound(2, []), /'o' has no inbound node/],
      [inbound(0, [[['h', 0, 0]]]), /InputLayer 'in' cannot have inbound nodes/],
    ];
    for (const [json, message] of cases) {
      expect(() => wg.modelFromJSON(json as wg.FunctionalJSON)).toThrow(wg.GraphError);
      expect(() => wg.modelFromJSON(json as wg.FunctionalJSON)).toThrow(message);
    }
    const unknownClass = edit((l) => {
      (l[2] as Entry).className = 'Lambda';
    });
    expect(() => wg.modelFromJSON(unknownClass)).toThrow(/unknown class 'Lambda'/);
    const proto = edit((l) => {
      (l[2] as Entry).className = '__proto__';
    });
    expect(() => wg.modelFromJSON(proto)).toThrow(/unknown class '__proto__'/);
    const badOut = JSON.parse(JSON.stringify(base()));
    badOut.config.outputLayers = [['ghost', 0, 0]];
    expect(() => wg.modelFromJSON(badOut)).toThrow(/outputLayers\[0\] refers to unknown layer 'ghost'/);
    expect(() => wg.modelFromJSON({ className: 'Functional', config: { layers: [] } } as never)).toThrow(wg.GraphError);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('wg.model and layer.apply reject malformed graphs and unsupported weight sharing', () => {
    const x = wg.input({ shape: [3] });
    const other = wg.input({ shape: [3] });
    const d = wg.layers.dense({ units: 2 });
    const h = d.apply(other) as Sym;
    expect(() => wg.model({ inputs: x, outputs: h })).toThrow(/graph disconnected: an output depends on input/);
    expect(() => wg.model({ inputs: h, outputs: h })).toThrow(/inputs\[0\] \(dense_\d+\/0\) is not made by wg.input/);
    expect(() => d.apply(x)).toThrow(/is already applied: calling a layer twice \(weight sharing\) is not supported/);
    expect(() => wg.layers.dense({ units: 2 }).apply(wg.tensor([1, 2, 3], [1, 3]) as never)).toThrow(
      /a concrete tensor of shape \[1,3\]/,
    );
    expect(() => wg.layers.dense({ units: 2 }).apply([])).toThrow(wg.ValueError);
    expect(() => wg.model({ inputs: [], outputs: h })).toThrow(/inputs must not be empty/);
    expect(() => wg.input({} as never)).toThrow(/needs a shape/);
    const shared = wg.layers.dense({ units: 1 }).apply(x) as Sym;
    const first = wg.model({ inputs: x, outputs: shared });
    const second = wg.model({ inputs: x, outputs: shared });
    first.build();
    expect(() => second.build()).toThrow(/already holds the weights of another model/);
    expect(() => wg.model({ inputs: x, outputs: shared })).toThrow(wg.GraphError);
    const y = wg.layers.dense({ units: 1, name: 'dup' }).apply(x) as Sym;
    const z = wg.layers.dense({ units: 1, name: 'dup' }).apply(y) as Sym;
    expect(() => wg.model({ inputs: x, outputs: z })).toThrow(/duplicate layer name 'dup'/);
  });

  it('several outputs: the graph builds and serializes, fit says it takes one output', async () => {
    const a = wg.input({ shape: [2] });
    const o1 = wg.layers.dense({ units: 1 }).apply(a) as Sym;
    const o2 = wg.layers.dense({ units: 2 }).apply(a) as Sym;
    const two = wg.model({ inputs: a, outputs: [o1, o2] });
    expect(wg.modelFromJSON(JSON.stringify(two.toJSON())).toJSON()).toEqual(two.toJSON());
    expect(() => two.compile({ optimizer: 'sgd', loss: 'meanSquaredError' })).not.toThrow();
    await expect(two.fit(wg.zeros([4, 2]), wg.zeros([4, 1]))).rejects.toThrow(
      /has 2 outputs; fit, evaluate and predict take models with one output/,
    );
  });
});

describe('several inputs', () => {
  const twoTower = () => {
    const a = wg.input({ shape: [2], name: 'user' });
    const b = wg.input({ shape: [3], name: 'item' });
    const ha = wg.layers.dense({ units: 3, activation: 'tanh' }).apply(a) as Sym;
    const hb = wg.layers.dense({ units: 3, activation: 'tanh' }).apply(b) as Sym;
    const s = wg.layers.multiply().apply([ha, hb]) as Sym;
    const out = wg.layers.dense({ units: 1 }).apply(wg.layers.concatenate().apply([s, a]) as Sym) as Sym;
    return wg.model({ inputs: [a, b], outputs: out });
  };

  it('gradients of a two-input model match finite differences', () => {
    const model = twoTower();
    expect(model.inputShapes).toEqual([[2], [3]]);
    const forward = (w: F64[], xa: F64, xb: F64) => {
      const ha = dense(xa, w[0] as F64, w[1] as F64, 2, 'tanh');
      const hb = dense(xb, w[2] as F64, w[3] as F64, 3, 'tanh');
      return dense(concatLast([merge('multiply', [ha, hb]), xa], [3, 2]), w[4] as F64, w[5] as F64, 5);
    };
    expect(checkModelGradients(model, forward, 5, 17)).toBe(9 + 12 + 6);
  });

  it('fit, evaluate, predict and trainOnBatch take one tensor per input (shuffled batches stay aligned)', async () => {
    const model = twoTower();
    model.compile({ optimizer: wg.optimizers.adam({ learningRate: 0.02 }), loss: 'meanSquaredError' });
    const n = 64;
    const xa = data(n, 2, 4);
    const xb = data(n, 3, 5);
    // Target: a fixed function of both inputs, learnable only when rows stay paired.
    const av = xa.dataSync();
    const bv = xb.dataSync();
    const y = wg.tensor(
      Array.from({ length: n }, (_, r) => Math.tanh((av[2 * r] as number) * (bv[3 * r] as number))),
      [n, 1],
    );
    const before = model.evaluate([xa, xb], y).loss as number;
    const h = await model.fit([xa, xb], y, { epochs: 40, batchSize: 16, seed: 9, validationData: [[xa, xb], y] });
    const after = model.evaluate([xa, xb], y).loss as number;
    expect(after).toBeLessThan(0.5 * before);
    expect(h.history.val_loss?.at(-1)).toBeCloseTo(after, 5);
    const p = model.predict([xa, xb], { batchSize: 7 }).dataSync();
    const again = model.predict([xa, xb]).dataSync();
    expect(Array.from(p)).toEqual(Array.from(again));
    expect(Number.isFinite(model.trainOnBatch([xa, xb], y))).toBe(true);
    const loaded = await wg.loadModel(await model.save());
    expect(Array.from(loaded.predict([xa, xb]).dataSync())).toEqual(Array.from(model.predict([xa, xb]).dataSync()));
  });

  it('x that does not match the inputs is a typed error naming the input', () => {
    const model = twoTower();
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const y = wg.zeros([4, 1]);
    expect(() => model.predict(wg.zeros([4, 2]))).toThrow(
      /the model has 2 inputs: x must be an array of 2 tensors, got one/,
    );
    expect(() => model.evaluate([wg.zeros([4, 2])], y)).toThrow(/an array of 1/);
    expect(() => model.evaluate([wg.zeros([4, 2]), wg.zeros([4, 2])], y)).toThrow(
      /expected x\[1\] of shape \[n,3\], got \[4,2\]/,
    );
    expect(() => model.evaluate([wg.zeros([4, 2]), wg.zeros([5, 3])], y)).toThrow(
      /x\[0\] has 4 samples but x\[1\] has 5/,
    );
    expect(() => model.inputShape).toThrow(/has 2 inputs/);
  });
});

describe('in a worker', () => {
  it('wg.worker.spawn trains a graph model and pull() returns a Functional with the worker weights', async () => {
    const entry = fileURLToPath(new URL('../../packages/wasmgrad/dist/worker/entry.js', import.meta.url));
    wg.setSeed(12);
    const x = wg.input({ shape: [2] });
    const h = wg.layers.dense({ units: 8, activation: 'tanh' }).apply(x) as Sym;
    const c = wg.layers.cross().apply(x) as Sym;
    const out = wg.layers
      .dense({ units: 1, activation: 'sigmoid' })
      .apply(wg.layers.concatenate().apply([h, c]) as Sym) as Sym;
    const model = wg.model({ inputs: x, outputs: out });
    model.compile({ optimizer: wg.optimizers.adam({ learningRate: 0.05 }), loss: 'binaryCrossentropy' });
    // spawn is typed for Sequential models; any LayersModel works (topology + weights travel as JSON).
    const trainer = await wg.worker.spawn(model as unknown as wg.Sequential, { entry });
    try {
      const xor = { values: [0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2] };
      const fit = await trainer.fit(xor, { values: [0, 1, 1, 0], shape: [4, 1] }, { epochs: 150, batchSize: 4 });
      const losses = fit.history.loss as number[];
      expect(losses.at(-1)).toBeLessThan(0.5 * (losses[0] as number));
      const pulled = await trainer.pull();
      expect(pulled).toBeInstanceOf(wg.Functional);
      const remote = await trainer.predict(xor);
      expect(Array.from(pulled.predict(wg.tensor(xor.values, [4, 2])).dataSync())).toEqual(Array.from(remote.values));
    } finally {
      await trainer.terminate();
    }
  });
});
