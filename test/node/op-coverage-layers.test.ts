/**
 * The layer half of the coverage matrix, generated from model/serialize.ts's closed registry (read
 * through the error that lists it): every layer class needs a spec, and for each one
 *
 * - weights: the gradient of its own weights (from `lossAndGradients`) against central finite
 *   differences of the model's loss along random directions (f32 loss, ε = 1e-2 on the weights);
 * - input: the same for the weights of the trainable layer right before it, whose gradient is
 *   computed from the class's input gradient (an Embedding before recurrent layers);
 * - json: toJSON → modelFromJSON → the same topology and bit-equal predictions with the same weights.
 *
 * The per-class f64 references (exact checks) live in model-*.test.ts and layers-*.test.ts; this
 * matrix is the net that makes a new layer class without any gradient check fail the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { seededRandom } from '../shared/tolerance.js';

type Sym = wg.SymbolicTensor;
const L = wg.layers;

/** A model around the class under test; `pre`/`under` are the layers whose weights are checked. */
interface Built {
  model: wg.LayersModel;
  under: wg.layers.Layer;
  pre?: wg.layers.Layer[];
  /** Integer inputs (Embedding): the input values are drawn from 0..vocab−1. */
  vocab?: number;
}

const flatDense = (x: Sym): Sym => L.dense({ units: 2 }).apply(L.flatten().apply(x) as Sym) as Sym;

/** Vector input [5] → Dense (pre) → layer → Dense head. */
function vectorCase(make: () => wg.layers.Layer, head = true): () => Built {
  return () => {
    const under = make();
    const x = wg.input({ shape: [5] });
    const pre = L.dense({ units: 6, activation: 'tanh' });
    const h = under.apply(pre.apply(x) as Sym) as Sym;
    const out = head ? (L.dense({ units: 2 }).apply(h) as Sym) : h;
    return { model: wg.model({ inputs: x, outputs: out }), under, pre: [pre] };
  };
}

/** Image input [6,6,2] → 1×1 Conv2D (pre) → layer → Flatten → Dense head. */
function imageCase(make: () => wg.layers.Layer, flatten = true): () => Built {
  return () => {
    const under = make();
    const x = wg.input({ shape: [6, 6, 2] });
    const pre = L.conv2d({ filters: 3, kernelSize: 1, activation: 'tanh' });
    const h = under.apply(pre.apply(x) as Sym) as Sym;
    const out = flatten ? flatDense(h) : (L.dense({ units: 2 }).apply(h) as Sym);
    return { model: wg.model({ inputs: x, outputs: out }), under, pre: [pre] };
  };
}

/** Token input [4] → Embedding (pre) → recurrent layer → Dense head. */
function sequenceCase(make: () => wg.layers.Layer): () => Built {
  return () => {
    const under = make();
    const x = wg.input({ shape: [4] });
    const pre = L.embedding({ inputDim: 7, outputDim: 3 });
    const out = L.dense({ units: 2 }).apply(under.apply(pre.apply(x) as Sym) as Sym) as Sym;
    return { model: wg.model({ inputs: x, outputs: out }), under, pre: [pre], vocab: 7 };
  };
}

/** Two Dense branches (pre) → merge layer → Dense head. */
function mergeCase(make: () => wg.layers.Layer): () => Built {
  return () => {
    const under = make();
    const x = wg.input({ shape: [5] });
    const a = L.dense({ units: 4, activation: 'tanh' });
    const b = L.dense({ units: 4, activation: 'tanh' });
    const m = under.apply([a.apply(x) as Sym, b.apply(x) as Sym]) as Sym;
    return { model: wg.model({ inputs: x, outputs: L.dense({ units: 2 }).apply(m) as Sym }), under, pre: [a, b] };
  };
}

const SPECS: Record<string, () => Built> = {
  Dense: vectorCase(() => L.dense({ units: 4, activation: 'sigmoid' })),
  Activation: vectorCase(() => L.activation({ activation: 'gelu' })),
  Dropout: vectorCase(() => L.dropout({ rate: 0.3, seed: 3 })),
  BatchNormalization: vectorCase(() => L.batchNormalization()),
  LayerNormalization: vectorCase(() => L.layerNormalization()),
  Reshape: vectorCase(() => L.reshape({ targetShape: [2, 3] }), false),
  Flatten: imageCase(() => L.flatten(), false),
  Conv2D: imageCase(() => L.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' })),
  DepthwiseConv2D: imageCase(() => L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 })),
  SeparableConv2D: imageCase(() => L.separableConv2d({ filters: 2, kernelSize: 3, padding: 'same' })),
  MaxPooling2D: imageCase(() => L.maxPooling2d({ poolSize: 2 })),
  AveragePooling2D: imageCase(() => L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' })),
  GlobalAveragePooling2D: imageCase(() => L.globalAveragePooling2d(), false),
  Embedding: () => {
    const x = wg.input({ shape: [3] });
    const under = L.embedding({ inputDim: 6, outputDim: 4 });
    return { model: wg.model({ inputs: x, outputs: flatDense(under.apply(x) as Sym) }), under, vocab: 6 };
  },
  SimpleRNN: sequenceCase(() => L.simpleRNN({ units: 4 })),
  LSTM: sequenceCase(() => L.lstm({ units: 3 })),
  GRU: sequenceCase(() => L.gru({ units: 3 })),
  Concatenate: mergeCase(() => L.concatenate()),
  Add: mergeCase(() => L.add()),
  Subtract: mergeCase(() => L.subtract()),
  Multiply: mergeCase(() => L.multiply()),
  Average: mergeCase(() => L.average()),
  Maximum: mergeCase(() => L.maximum()),
  Minimum: mergeCase(() => L.minimum()),
  Cross: () => {
    const x = wg.input({ shape: [5] });
    const pre = L.dense({ units: 4, activation: 'tanh' });
    const under = L.cross();
    const h = pre.apply(x) as Sym;
    const out = L.dense({ units: 2 }).apply(under.apply([h, h]) as Sym) as Sym;
    return { model: wg.model({ inputs: x, outputs: out }), under, pre: [pre] };
  },
  // Every functional model has one; it has no weights (its gradient is the model's input).
  InputLayer: () => {
    const x = wg.input({ shape: [5] });
    const under = L.dense({ units: 2 });
    const model = wg.model({ inputs: x, outputs: under.apply(x) as Sym });
    return { model, under: model.layers[0] as wg.layers.Layer };
  },
};

/** The registry's class names, as modelFromJSON lists them for an unknown class. */
function registry(): string[] {
  try {
    wg.modelFromJSON({
      className: 'Sequential',
      config: { layers: [{ className: '¿unknown?', config: {} }] },
    } as never);
  } catch (err) {
    const m = /known: (.*)$/.exec((err as Error).message);
    if (m) return (m[1] as string).split(', ');
  }
  throw new Error('modelFromJSON did not list its registry');
}

const CLASSES = registry();
const CHECKS = ['weights', 'input', 'json'] as const;
const passed = new Map<string, Set<string>>(CLASSES.map((k) => [k, new Set<string>()]));
const ROWS = 6;

beforeAll(async () => {
  await wg.ready();
});

afterAll(() => {
  const full = CLASSES.filter((k) => passed.get(k)?.size === CHECKS.length);
  const rows = CLASSES.map(
    (k) => `${k.padEnd(24)} ${CHECKS.map((c) => (passed.get(k)?.has(c) ? ' ok ' : ' -- ')).join(' ')}`,
  );
  console.log(
    `layer coverage matrix (registry × ${CHECKS.join(', ')}):\n${rows.join('\n')}\n` +
      `layer classes covered / registered: ${full.length} / ${CLASSES.length}`,
  );
});

function build(cls: string): Built {
  const spec = SPECS[cls];
  if (!spec) throw new Error(`layer class "${cls}" is in the registry but has no spec in op-coverage-layers.test.ts`);
  const b = spec();
  b.model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
  return b;
}

/** Seeded inputs and targets for a model. */
function data(b: Built, seed: number): { x: wg.Tensor; y: wg.Tensor } {
  const rand = seededRandom(seed);
  const inShape = b.model.inputShapes[0] as number[];
  const n = ROWS * inShape.reduce((p, d) => p * d, 1);
  const xv = Array.from({ length: n }, () => (b.vocab ? Math.floor(rand(0, b.vocab)) : Math.fround(rand(-1.5, 1.5))));
  const m = ROWS * b.model.outputShape.reduce((p, d) => p * d, 1);
  return {
    x: wg.tensor(xv, [ROWS, ...inShape]),
    y: wg.tensor(
      Array.from({ length: m }, () => rand(-1, 1)),
      [ROWS, ...b.model.outputShape],
    ),
  };
}

/**
 * ⟨∇L, v⟩ from lossAndGradients against (L(w + εv) − L(w − εv)) / 2ε for random directions v over
 * the weights of `layers`. Returns the number of directions checked.
 */
function directional(b: Built, layers: wg.layers.Layer[], what: string): number {
  const { model } = b;
  const { x, y } = data(b, 11);
  const chosen = new Set(layers.flatMap((l) => l.weights.map((w) => w.name)));
  const base = model.getWeights();
  const baseV = base.map((t) => Float64Array.from(t.dataSync()));
  const { grads } = model.lossAndGradients(x, y);
  const gv = grads.map((g) => g.dataSync().slice());
  wg.dispose(grads);
  const lossAt = (ws: Float64Array[]): number => {
    const ts = ws.map((w, i) => wg.tensor(w, base[i]?.shape as number[]));
    model.setWeights(ts);
    wg.dispose(ts);
    const r = model.lossAndGradients(x, y);
    wg.dispose(r.grads);
    return r.loss;
  };
  let checked = 0;
  const eps = 1e-2;
  for (let d = 0; d < 3; d++) {
    const rand = seededRandom(100 + d);
    const vs = model.weights.map((w, i) =>
      Float64Array.from(baseV[i] as Float64Array, () => (chosen.has(w.name) && w.trainable ? rand(-1, 1) : 0)),
    );
    if (vs.every((v) => v.every((e) => e === 0))) continue;
    const shifted = (s: number) =>
      baseV.map((w, i) => w.map((e, j) => e + s * eps * ((vs[i] as Float64Array)[j] as number)));
    const want = (lossAt(shifted(1)) - lossAt(shifted(-1))) / (2 * eps);
    const got = gv.reduce((s, g, i) => s + g.reduce((t, e, j) => t + e * ((vs[i] as Float64Array)[j] as number), 0), 0);
    const tol = Math.max(2e-3, 3e-2 * Math.abs(want));
    expect(
      Math.abs(got - want),
      `${what}: direction ${d}: gradient·v ${got}, finite difference ${want}`,
    ).toBeLessThanOrEqual(tol);
    checked++;
  }
  model.setWeights(base);
  wg.dispose([...base, x, y]);
  return checked;
}

describe('layer coverage matrix', () => {
  it.each(CLASSES)('%s has a spec', (cls) => {
    expect(SPECS[cls], `layer class "${cls}" has no spec`).toBeDefined();
  });

  it.each(CLASSES)('%s: weight gradients against finite differences of the loss', (cls) => {
    const b = build(cls);
    if (b.under.weights.some((w) => w.trainable))
      expect(directional(b, [b.under], `${cls} weights`)).toBeGreaterThan(0);
    else expect(b.under.weights.filter((w) => w.trainable)).toEqual([]);
    passed.get(cls)?.add('weights');
  });

  it.each(CLASSES)('%s: input gradient (through the layer before it) against finite differences', (cls) => {
    const b = build(cls);
    if (b.pre) expect(directional(b, b.pre, `${cls} input`)).toBeGreaterThan(0);
    else expect(['Embedding', 'InputLayer']).toContain(cls);
    passed.get(cls)?.add('input');
  });

  it.each(CLASSES)('%s: JSON round trip gives the same topology and bit-equal predictions', (cls) => {
    const b = build(cls);
    const json = JSON.stringify(b.model.toJSON());
    const again = wg.modelFromJSON(JSON.parse(json));
    expect(JSON.stringify(again.toJSON())).toBe(json);
    expect(again.layers.map((l) => l.className)).toContain(cls);
    const ws = b.model.getWeights();
    again.setWeights(ws);
    const { x } = data(b, 5);
    const [p, q] = [b.model.predict(x), again.predict(x)];
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    wg.dispose([...ws, x, p, q]);
    passed.get(cls)?.add('json');
  });
});
