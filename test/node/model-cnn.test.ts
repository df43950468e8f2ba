/**
 * Convolution, pooling, flatten/reshape and dropout layers inside models: the loss gradient w.r.t.
 * every weight against central finite differences of a plain f64 reference of the same small model
 * (as model-dense.test.ts does for dense stacks), dropout's training/inference behaviour and
 * reproducibility, toJSON/modelFromJSON of a CNN, and typed errors for bad shapes and options.
 */
import { describe, expect, it, vi } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { Conv2D } from '../../packages/wasmgrad/src/layers/conv.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

type Act = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softmax';
interface DepthwiseSpec {
  mult: number;
  filters?: number;
  kernel: [number, number];
  strides?: [number, number];
  padding?: 'valid' | 'same';
  dilation?: [number, number];
  act: Act;
}
type Spec =
  | {
      type: 'conv';
      filters: number;
      kernel: [number, number];
      strides?: [number, number];
      padding?: 'valid' | 'same';
      dilation?: [number, number];
      act: Act;
      useBias?: boolean;
    }
  | (DepthwiseSpec & { type: 'dwconv' })
  | (DepthwiseSpec & { type: 'sepconv' })
  | { type: 'maxpool'; pool: [number, number]; strides?: [number, number]; padding?: 'valid' | 'same' }
  | { type: 'avgpool'; pool: [number, number]; strides?: [number, number]; padding?: 'valid' | 'same' }
  | { type: 'gap' }
  | { type: 'flatten' }
  | { type: 'reshape'; target: number[] }
  | { type: 'dense'; units: number; act: Act };

const ACT: Record<Exclude<Act, 'softmax'>, (x: number) => number> = {
  linear: (x) => x,
  relu: (x) => Math.max(0, x),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

/** Output size and leading padding along one axis, as TensorFlow computes them. */
function axis(size: number, k: number, stride: number, dil: number, padding: 'valid' | 'same') {
  const span = (k - 1) * dil + 1;
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + span - size, 0);
    return { out, before: Math.floor(total / 2) };
  }
  return { out: Math.floor((size - span) / stride) + 1, before: 0 };
}

interface Value {
  data: Float64Array;
  shape: number[]; // per sample
}

/** f64 forward of the model described by `specs`, consuming weights in layer order. */
function refForward(specs: Spec[], weights: Float64Array[], x: Float64Array, inShape: number[], n: number): Value {
  let h: Value = { data: x, shape: inShape };
  let wi = 0;
  for (const s of specs) {
    if (s.type === 'conv') {
      const [H, W, C] = h.shape as [number, number, number];
      const [kh, kw] = s.kernel;
      const [sh, sw] = s.strides ?? [1, 1];
      const [dh, dw] = s.dilation ?? [1, 1];
      const ay = axis(H, kh, sh, dh, s.padding ?? 'valid');
      const ax = axis(W, kw, sw, dw, s.padding ?? 'valid');
      const F = s.filters;
      const k = weights[wi++] as Float64Array;
      const b = s.useBias === false ? new Float64Array(F) : (weights[wi++] as Float64Array);
      const out = new Float64Array(n * ay.out * ax.out * F);
      for (let b0 = 0; b0 < n; b0++)
        for (let oy = 0; oy < ay.out; oy++)
          for (let ox = 0; ox < ax.out; ox++)
            for (let f = 0; f < F; f++) {
              let acc = b[f] as number;
              for (let i = 0; i < kh; i++) {
                const iy = oy * sh - ay.before + i * dh;
                if (iy < 0 || iy >= H) continue;
                for (let j = 0; j < kw; j++) {
                  const ix = ox * sw - ax.before + j * dw;
                  if (ix < 0 || ix >= W) continue;
                  for (let c = 0; c < C; c++) {
                    acc +=
                      (h.data[((b0 * H + iy) * W + ix) * C + c] as number) *
                      (k[((i * kw + j) * C + c) * F + f] as number);
                  }
                }
              }
              out[((b0 * ay.out + oy) * ax.out + ox) * F + f] = acc;
            }
      h = { data: activate(out, F, s.act), shape: [ay.out, ax.out, F] };
    } else if (s.type === 'dwconv' || s.type === 'sepconv') {
      const [H, W, C] = h.shape as [number, number, number];
      const [kh, kw] = s.kernel;
      const [sh, sw] = s.strides ?? [1, 1];
      const [dh, dw] = s.dilation ?? [1, 1];
      const ay = axis(H, kh, sh, dh, s.padding ?? 'valid');
      const ax = axis(W, kw, sw, dw, s.padding ?? 'valid');
      const M = s.mult;
      const k = weights[wi++] as Float64Array;
      const pw = s.type === 'sepconv' ? (weights[wi++] as Float64Array) : undefined;
      const b = weights[wi++] as Float64Array;
      const D = C * M;
      const d = new Float64Array(n * ay.out * ax.out * D);
      for (let b0 = 0; b0 < n; b0++)
        for (let oy = 0; oy < ay.out; oy++)
          for (let ox = 0; ox < ax.out; ox++)
            for (let c = 0; c < C; c++)
              for (let m = 0; m < M; m++) {
                let acc = 0;
                for (let i = 0; i < kh; i++) {
                  const iy = oy * sh - ay.before + i * dh;
                  if (iy < 0 || iy >= H) continue;
                  for (let j = 0; j < kw; j++) {
                    const ix = ox * sw - ax.before + j * dw;
                    if (ix < 0 || ix >= W) continue;
                    acc +=
                      (h.data[((b0 * H + iy) * W + ix) * C + c] as number) *
                      (k[((i * kw + j) * C + c) * M + m] as number);
                  }
                }
                d[((b0 * ay.out + oy) * ax.out + ox) * D + c * M + m] = acc;
              }
      const F = pw ? (s.filters as number) : D;
      const pixels = n * ay.out * ax.out;
      const out = new Float64Array(pixels * F);
      for (let r = 0; r < pixels; r++)
        for (let f = 0; f < F; f++) {
          let acc = b[f] as number;
          if (pw) for (let q = 0; q < D; q++) acc += (d[r * D + q] as number) * (pw[q * F + f] as number);
          else acc += d[r * D + f] as number;
          out[r * F + f] = acc;
        }
      h = { data: activate(out, F, s.act), shape: [ay.out, ax.out, F] };
    } else if (s.type === 'maxpool' || s.type === 'avgpool') {
      const [H, W, C] = h.shape as [number, number, number];
      const [kh, kw] = s.pool;
      const [sh, sw] = s.strides ?? s.pool;
      const ay = axis(H, kh, sh, 1, s.padding ?? 'valid');
      const ax = axis(W, kw, sw, 1, s.padding ?? 'valid');
      const out = new Float64Array(n * ay.out * ax.out * C);
      for (let b0 = 0; b0 < n; b0++)
        for (let oy = 0; oy < ay.out; oy++)
          for (let ox = 0; ox < ax.out; ox++)
            for (let c = 0; c < C; c++) {
              let best = -Infinity;
              let sum = 0;
              let count = 0;
              for (let i = 0; i < kh; i++) {
                const iy = oy * sh - ay.before + i;
                if (iy < 0 || iy >= H) continue;
                for (let j = 0; j < kw; j++) {
                  const ix = ox * sw - ax.before + j;
                  if (ix < 0 || ix >= W) continue;
                  const v = h.data[((b0 * H + iy) * W + ix) * C + c] as number;
                  best = Math.max(best, v);
                  sum += v;
                  count++;
                }
              }
              out[((b0 * ay.out + oy) * ax.out + ox) * C + c] = s.type === 'maxpool' ? best : sum / count;
            }
      h = { data: out, shape: [ay.out, ax.out, C] };
    } else if (s.type === 'gap') {
      const [H, W, C] = h.shape as [number, number, number];
      const out = new Float64Array(n * C);
      for (let b0 = 0; b0 < n; b0++)
        for (let p = 0; p < H * W; p++)
          for (let c = 0; c < C; c++)
            out[b0 * C + c] = (out[b0 * C + c] as number) + (h.data[(b0 * H * W + p) * C + c] as number) / (H * W);
      h = { data: out, shape: [C] };
    } else if (s.type === 'flatten') {
      h = { data: h.data, shape: [h.shape.reduce((a, b) => a * b, 1)] };
    } else if (s.type === 'reshape') {
      const size = h.shape.reduce((a, b) => a * b, 1);
      const known = s.target.reduce((a, b) => (b === -1 ? a : a * b), 1);
      h = { data: h.data, shape: s.target.map((d) => (d === -1 ? size / known : d)) };
    } else {
      const inF = h.shape[h.shape.length - 1] as number;
      const rows = h.data.length / inF;
      const w = weights[wi++] as Float64Array;
      const b = weights[wi++] as Float64Array;
      const out = new Float64Array(rows * s.units);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < s.units; j++) {
          let acc = b[j] as number;
          for (let p = 0; p < inF; p++) acc += (h.data[r * inF + p] as number) * (w[p * s.units + j] as number);
          out[r * s.units + j] = acc;
        }
      h = { data: activate(out, s.units, s.act), shape: [...h.shape.slice(0, -1), s.units] };
    }
  }
  return h;
}

function activate(z: Float64Array, cols: number, act: Act): Float64Array {
  if (act !== 'softmax') return z.map(ACT[act]);
  const out = new Float64Array(z.length);
  for (let r = 0; r < z.length / cols; r++) {
    const row = z.subarray(r * cols, (r + 1) * cols);
    const m = Math.max(...row);
    let s = 0;
    for (const v of row) s += Math.exp(v - m);
    for (let j = 0; j < cols; j++) out[r * cols + j] = Math.exp((row[j] as number) - m) / s;
  }
  return out;
}

function makeLayer(s: Spec, inputShape?: number[]): wg.layers.Layer {
  const first = inputShape ? { inputShape } : {};
  switch (s.type) {
    case 'conv':
      return wg.layers.conv2d({
        filters: s.filters,
        kernelSize: s.kernel,
        strides: s.strides,
        padding: s.padding,
        dilationRate: s.dilation,
        activation: s.act,
        useBias: s.useBias,
        biasInitializer: 'randomNormal',
        ...first,
      });
    case 'dwconv':
      return wg.layers.depthwiseConv2d({
        depthMultiplier: s.mult,
        kernelSize: s.kernel,
        strides: s.strides,
        padding: s.padding,
        dilationRate: s.dilation,
        activation: s.act,
        biasInitializer: 'randomNormal',
        ...first,
      });
    case 'sepconv':
      return wg.layers.separableConv2d({
        filters: s.filters as number,
        depthMultiplier: s.mult,
        kernelSize: s.kernel,
        strides: s.strides,
        padding: s.padding,
        dilationRate: s.dilation,
        activation: s.act,
        biasInitializer: 'randomNormal',
        ...first,
      });
    case 'maxpool':
      return wg.layers.maxPooling2d({ poolSize: s.pool, strides: s.strides, padding: s.padding, ...first });
    case 'avgpool':
      return wg.layers.averagePooling2d({ poolSize: s.pool, strides: s.strides, padding: s.padding, ...first });
    case 'gap':
      return wg.layers.globalAveragePooling2d(first);
    case 'flatten':
      return wg.layers.flatten(first);
    case 'reshape':
      return wg.layers.reshape({ targetShape: s.target, ...first });
    default:
      return wg.layers.dense({ units: s.units, activation: s.act, biasInitializer: 'randomNormal', ...first });
  }
}

/**
 * Builds the model of `specs`, takes its loss and gradients on a random batch and compares them
 * with the f64 reference and its central finite differences.
 */
async function gradCheck(specs: Spec[], inShape: number[], seed: number, loss: wg.LossName = 'meanSquaredError') {
  await wg.ready();
  wg.setSeed(seed);
  const rand = seededRandom(seed);
  const n = 3;
  const model = wg.sequential(specs.map((s, i) => makeLayer(s, i === 0 ? inShape : undefined)));
  model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss });
  const xv = Float64Array.from({ length: n * inShape.reduce((a, b) => a * b, 1) }, () => Math.fround(rand(-1.5, 1.5)));
  const outShape = model.outputShape;
  const outLen = outShape.reduce((a, b) => a * b, 1);
  const tv = new Float64Array(n * outLen);
  for (let r = 0; r < n; r++) {
    if (loss === 'categoricalCrossentropy') tv[r * outLen + Math.floor(rand(0, outLen))] = 1;
    else for (let j = 0; j < outLen; j++) tv[r * outLen + j] = rand(-1, 1);
  }
  const x = wg.tensor(Array.from(xv), [n, ...inShape]);
  const y = wg.tensor(Array.from(tv), [n, ...outShape]);
  const { loss: got, grads } = model.lossAndGradients(x, y);
  const weights = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
  const ref = () => {
    const pred = refForward(specs, weights, xv, inShape, n).data;
    let s = 0;
    for (let i = 0; i < pred.length; i++) {
      const [p, t] = [pred[i] as number, tv[i] as number];
      s += loss === 'categoricalCrossentropy' ? -t * Math.log(p) : (p - t) ** 2 / outLen;
    }
    return s / n;
  };
  expect(got).toBeCloseTo(ref(), 4);
  expect(grads.length).toBe(weights.length);
  weights.forEach((w, k) => {
    const fd = new Float64Array(w.length);
    for (let j = 0; j < w.length; j++) {
      const keep = w[j] as number;
      w[j] = keep + 1e-6;
      const hi = ref();
      w[j] = keep - 1e-6;
      const lo = ref();
      w[j] = keep;
      fd[j] = (hi - lo) / 2e-6;
    }
    assertClose((grads[k] as wg.Tensor).dataSync(), fd, { atol: 2e-4, rtol: 2e-3 }, `grad of weight ${k}`);
  });
  for (const t of [x, y, ...grads]) t.dispose();
  model.dispose();
}

describe('CNN layers: loss gradients against f64 finite differences', () => {
  it('conv 3x3 valid (tanh) → flatten → dense', async () => {
    await gradCheck(
      [
        { type: 'conv', filters: 3, kernel: [3, 3], act: 'tanh' },
        { type: 'flatten' },
        { type: 'dense', units: 2, act: 'linear' },
      ],
      [5, 6, 2],
      1,
    );
  });
  it("strided 'same' conv with a non-square kernel, no bias", async () => {
    await gradCheck(
      [
        { type: 'conv', filters: 2, kernel: [3, 2], strides: [2, 2], padding: 'same', act: 'sigmoid', useBias: false },
        { type: 'flatten' },
        { type: 'dense', units: 3, act: 'linear' },
      ],
      [7, 6, 2],
      2,
    );
  });
  it('dilated conv, then a second conv with relu and unequal strides', async () => {
    await gradCheck(
      [
        { type: 'conv', filters: 3, kernel: [2, 3], dilation: [2, 2], act: 'tanh' },
        { type: 'conv', filters: 2, kernel: [2, 2], strides: [1, 2], padding: 'same', act: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: 2, act: 'linear' },
      ],
      [7, 8, 1],
      3,
    );
  });
  it('conv → max pool 2 → conv → max pool (3x3 window, stride 2, same) → dense softmax (fused cross-entropy)', async () => {
    await gradCheck(
      [
        { type: 'conv', filters: 3, kernel: [3, 3], act: 'tanh' },
        { type: 'maxpool', pool: [2, 2] },
        { type: 'conv', filters: 4, kernel: [2, 2], padding: 'same', act: 'relu' },
        { type: 'maxpool', pool: [3, 3], strides: [2, 2], padding: 'same' },
        { type: 'flatten' },
        { type: 'dense', units: 3, act: 'softmax' },
      ],
      [10, 9, 2],
      4,
      'categoricalCrossentropy',
    );
  });
  it("average pooling ('valid' and 'same', padding cells not counted) and global average pooling", async () => {
    await gradCheck(
      [
        { type: 'conv', filters: 3, kernel: [2, 2], act: 'tanh' },
        { type: 'avgpool', pool: [2, 2] },
        { type: 'conv', filters: 2, kernel: [1, 1], act: 'linear' },
        { type: 'avgpool', pool: [2, 3], strides: [1, 2], padding: 'same' },
        { type: 'flatten' },
        { type: 'dense', units: 2, act: 'linear' },
      ],
      [9, 9, 2],
      5,
    );
    await gradCheck(
      [
        { type: 'conv', filters: 4, kernel: [3, 3], padding: 'same', act: 'tanh' },
        { type: 'gap' },
        { type: 'dense', units: 3, act: 'softmax' },
      ],
      [5, 4, 3],
      6,
      'categoricalCrossentropy',
    );
  });
  it('reshape between dense and conv layers (same memory, gradient passed through)', async () => {
    await gradCheck(
      [
        { type: 'dense', units: 24, act: 'tanh' },
        { type: 'reshape', target: [4, 3, 2] },
        { type: 'conv', filters: 2, kernel: [2, 2], act: 'linear' },
        { type: 'reshape', target: [-1] },
        { type: 'dense', units: 2, act: 'linear' },
      ],
      [5],
      7,
    );
  });
  it("depthwise conv (multiplier 2, strided 'same', then dilated) with its bias", async () => {
    await gradCheck(
      [
        { type: 'dwconv', mult: 2, kernel: [3, 3], strides: [2, 1], padding: 'same', act: 'tanh' },
        { type: 'dwconv', mult: 1, kernel: [2, 2], dilation: [2, 1], act: 'linear' },
        { type: 'flatten' },
        { type: 'dense', units: 2, act: 'linear' },
      ],
      [7, 6, 3],
      9,
    );
  });
  it('separable conv (depthwise × pointwise) with relu into softmax', async () => {
    await gradCheck(
      [
        { type: 'sepconv', mult: 2, filters: 4, kernel: [3, 2], act: 'relu' },
        { type: 'sepconv', mult: 1, filters: 3, kernel: [2, 2], strides: [2, 2], padding: 'same', act: 'tanh' },
        { type: 'gap' },
        { type: 'dense', units: 3, act: 'softmax' },
      ],
      [6, 7, 2],
      10,
      'categoricalCrossentropy',
    );
  });
  it('predict matches the f64 forward of a conv/pool model', async () => {
    await wg.ready();
    wg.setSeed(8);
    const specs: Spec[] = [
      { type: 'conv', filters: 4, kernel: [3, 3], padding: 'same', act: 'relu' },
      { type: 'maxpool', pool: [2, 2] },
      { type: 'flatten' },
      { type: 'dense', units: 3, act: 'softmax' },
    ];
    const model = wg.sequential(specs.map((s, i) => makeLayer(s, i === 0 ? [6, 6, 1] : undefined)));
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const rand = seededRandom(8);
    const xv = Float64Array.from({ length: 4 * 36 }, () => Math.fround(rand(-1, 1)));
    const out = model.predict(wg.tensor(Array.from(xv), [4, 6, 6, 1])).dataSync();
    const w = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    assertClose(out, refForward(specs, w, xv, [6, 6, 1], 4).data, { atol: 1e-6, rtol: 1e-5 }, 'predict');
    model.dispose();
  });
});

describe('inference fusion of conv2d + 2×2 max pooling', () => {
  it('predict and evaluate fuse each conv with its pooling and match the unfused layers bit for bit', async () => {
    await wg.ready();
    wg.setSeed(5);
    // The CNN: conv1 (one input channel) takes the direct block kernel, conv2 Winograd.
    const build = (split: boolean) => {
      const conv = { kernelSize: 3, activation: 'relu' as const, padding: 'same' as const };
      const gap = () => (split ? [wg.layers.activation({ activation: 'linear' })] : []);
      return wg.sequential([
        wg.layers.conv2d({ filters: 16, ...conv, inputShape: [28, 28, 1] }),
        ...gap(),
        wg.layers.maxPooling2d({ poolSize: 2 }),
        wg.layers.conv2d({ filters: 32, ...conv }),
        ...gap(),
        wg.layers.maxPooling2d({ poolSize: 2 }),
        wg.layers.flatten(),
        wg.layers.dense({ units: 10, activation: 'softmax' }),
      ]);
    };
    const fused = build(false);
    const plain = build(true);
    plain.setWeights(fused.getWeights());
    const rand = seededRandom(5);
    const values = Float32Array.from({ length: 40 * 784 }, () => rand(0, 1));
    values[3 * 784 + 400] = Number.NaN; // sample 3 must come out NaN on both paths
    const x = wg.tensor(values, [40, 28, 28, 1]);
    const spy = vi.spyOn(Conv2D.prototype, 'forwardMaxPool2');
    const a = fused.predict(x, { batchSize: 16 }).dataSync();
    expect(spy).toHaveBeenCalledTimes(2 * 3);
    spy.mockClear();
    const b = plain.predict(x, { batchSize: 16 }).dataSync();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
    expect(bits(a)).toEqual(bits(b));
    expect(Number.isNaN(a[3 * 10] as number)).toBe(true);
    // One sample at a time gives the same bits as batches.
    expect(bits(fused.predict(x, { batchSize: 1 }).dataSync())).toEqual(bits(a));
    fused.dispose();
    plain.dispose();
  });

  it('leaves other poolings and activations unfused', () => {
    const conv = (activation: 'relu' | 'tanh') =>
      new Conv2D({ filters: 2, kernelSize: 3, activation, inputShape: [6, 6, 1] });
    const pool = (args: wg.layers.Pooling2DArgs, input: number[]) => {
      const p = wg.layers.maxPooling2d(args);
      p.build(input);
      return p;
    };
    expect(conv('relu').fusesMaxPool2(pool({ poolSize: 2 }, [4, 4, 2]))).toBe(true);
    expect(conv('relu').fusesMaxPool2(pool({ poolSize: 2, padding: 'same' }, [4, 4, 2]))).toBe(true);
    expect(conv('relu').fusesMaxPool2(pool({ poolSize: 2, padding: 'same' }, [5, 4, 2]))).toBe(false);
    expect(conv('relu').fusesMaxPool2(pool({ poolSize: 3 }, [6, 6, 2]))).toBe(false);
    expect(conv('relu').fusesMaxPool2(pool({ poolSize: 2, strides: 1 }, [6, 6, 2]))).toBe(false);
    expect(conv('tanh').fusesMaxPool2(pool({ poolSize: 2 }, [4, 4, 2]))).toBe(false);
  });
});

describe('Dropout', () => {
  /** dense(in→units) → dropout → dense(units→1, no bias), one sample. */
  function dropoutModel(rate: number, seed: number | undefined, units: number) {
    return wg.sequential([
      wg.layers.dense({ units, activation: 'tanh', inputShape: [3], biasInitializer: 'randomNormal' }),
      wg.layers.dropout({ rate, seed }),
      wg.layers.dense({ units: 1, useBias: false }),
    ]);
  }

  it('is inactive in predict and evaluate', async () => {
    await wg.ready();
    wg.setSeed(21);
    const model = dropoutModel(0.5, 3, 16);
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const xv = [0.3, -0.7, 1.1, -0.2, 0.5, 0.9];
    const x = wg.tensor(xv, [2, 3]);
    const w = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    const want = refForward(
      [
        { type: 'dense', units: 16, act: 'tanh' },
        { type: 'dense', units: 1, act: 'linear' },
      ],
      [w[0] as Float64Array, w[1] as Float64Array, w[2] as Float64Array, new Float64Array(1)],
      Float64Array.from(xv),
      [3],
      2,
    ).data;
    assertClose(model.predict(x).dataSync(), want, { atol: 1e-6, rtol: 1e-5 }, 'predict');
    const target = wg.tensor([0.1, -0.4], [2, 1]);
    const mse = (((want[0] as number) - 0.1) ** 2 + ((want[1] as number) + 0.4) ** 2) / 2;
    expect(model.evaluate(x, target).loss).toBeCloseTo(mse, 5);
    model.dispose();
  });

  it('drops about `rate` of the values in training, scales the rest by 1/(1 − rate), and its gradients match finite differences under that mask', async () => {
    await wg.ready();
    wg.setSeed(22);
    const [rate, units] = [0.3, 2000];
    const model = dropoutModel(rate, 7, units);
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
    const xv = Float64Array.from([0.4, -0.8, 0.6]);
    const tv = 0.25;
    const { grads } = model.lossAndGradients(wg.tensor(Array.from(xv), [1, 3]), wg.tensor([tv], [1, 1]));
    const [w1, b1, w2] = model.getWeights().map((t) => Float64Array.from(t.dataSync())) as [
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    const hidden = (wa: Float64Array, ba: Float64Array) =>
      Float64Array.from({ length: units }, (_, j) =>
        Math.tanh((ba[j] as number) + xv.reduce((s, v, p) => s + v * (wa[p * units + j] as number), 0)),
      );
    // The kernel gradient of the last layer is dz·h_dropped: recover the mask from it.
    const h = hidden(w1, b1);
    const pred = (mask: Float64Array, wa: Float64Array, ba: Float64Array, wb: Float64Array) => {
      const hh = hidden(wa, ba);
      let s = 0;
      for (let j = 0; j < units; j++) s += (hh[j] as number) * (mask[j] as number) * (wb[j] as number);
      return s;
    };
    const g2 = (grads[2] as wg.Tensor).dataSync();
    // With the true mask m (0 or 1/(1 − rate)), g2[j] = 2·(pred − t)·h[j]·m[j]; the ratio
    // g2[j] / h[j] takes exactly two values, 0 and a common positive or negative constant.
    const ratios = Array.from(g2, (g, j) => g / (h[j] as number));
    const nonzero = ratios.filter((r) => r !== 0);
    const dropped = units - nonzero.length;
    expect(Math.abs(dropped / units - rate)).toBeLessThan(0.04);
    const c = nonzero[0] as number;
    for (const r of nonzero) expect(r / c).toBeCloseTo(1, 3);
    const mask = Float64Array.from(ratios, (r) => (r === 0 ? 0 : 1 / (1 - rate)));
    const loss = (wa: Float64Array, ba: Float64Array, wb: Float64Array) => (pred(mask, wa, ba, wb) - tv) ** 2;
    // The common constant is 2·(pred − t)/(1 − rate) under that mask.
    expect(c).toBeCloseTo((2 * (pred(mask, w1, b1, w2) - tv)) / (1 - rate), 3);
    for (const [k, w] of [w1, b1, w2].entries()) {
      const fd = new Float64Array(w.length);
      for (let j = 0; j < w.length; j++) {
        const keep = w[j] as number;
        w[j] = keep + 1e-6;
        const hi = loss(w1, b1, w2);
        w[j] = keep - 1e-6;
        const lo = loss(w1, b1, w2);
        w[j] = keep;
        fd[j] = (hi - lo) / 2e-6;
      }
      assertClose((grads[k] as wg.Tensor).dataSync(), fd, { atol: 2e-4, rtol: 2e-3 }, `dropout grad ${k}`);
    }
    model.dispose();
  });

  it('masks are reproducible for a seed, differ between seeds and between steps', async () => {
    await wg.ready();
    const x = wg.tensor([0.4, -0.8, 0.6], [1, 3]);
    const y = wg.tensor([0.5], [1, 1]);
    const gradsOf = (seed: number, steps = 0) => {
      wg.setSeed(30);
      const model = dropoutModel(0.5, seed, 64);
      model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
      for (let s = 0; s < steps; s++) model.trainOnBatch(x, y);
      const g = Array.from((model.lossAndGradients(x, y).grads[2] as wg.Tensor).dataSync());
      model.dispose();
      return g;
    };
    const a = gradsOf(5);
    expect(gradsOf(5)).toEqual(a);
    expect(a.filter((v) => v === 0).length).toBeGreaterThan(10);
    expect(gradsOf(6)).not.toEqual(a);
    expect(gradsOf(5, 1)).not.toEqual(a);
  });

  it('fit with a dropout layer is reproducible for a fit seed', async () => {
    await wg.ready();
    const rand = seededRandom(40);
    const x = wg.tensor(
      Array.from({ length: 64 * 3 }, () => rand(-1, 1)),
      [64, 3],
    );
    const y = wg.tensor(
      Array.from({ length: 64 }, () => rand(-1, 1)),
      [64, 1],
    );
    const run = async () => {
      wg.setSeed(41);
      const model = dropoutModel(0.4, undefined, 32);
      model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const h = await model.fit(x, y, { epochs: 2, batchSize: 16, seed: 9 });
      const w = Array.from((model.getWeights()[0] as wg.Tensor).dataSync());
      model.dispose();
      return { loss: h.history.loss, w };
    };
    const first = await run();
    expect(await run()).toEqual(first);
  });
});

describe('CNN serialization and errors', () => {
  it('toJSON / modelFromJSON round trip of a CNN keeps topology, options and predictions', async () => {
    await wg.ready();
    wg.setSeed(50);
    const model = wg.sequential([
      wg.layers.conv2d({
        filters: 4,
        kernelSize: [3, 2],
        strides: [1, 2],
        padding: 'same',
        dilationRate: 1,
        activation: 'relu',
        inputShape: [8, 8, 1],
        kernelRegularizer: wg.regularizers.l2({ l2: 0.01 }),
      }),
      wg.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      wg.layers.conv2d({ filters: 3, kernelSize: 2, dilationRate: 2, padding: 'same', useBias: false }),
      wg.layers.averagePooling2d({ poolSize: [1, 1] }),
      wg.layers.depthwiseConv2d({ kernelSize: 1, depthMultiplier: 2, activation: 'tanh' }),
      wg.layers.separableConv2d({ filters: 3, kernelSize: 1, useBias: false }),
      wg.layers.dropout({ rate: 0.25, seed: 3 }),
      wg.layers.reshape({ targetShape: [-1, 3] }),
      wg.layers.flatten(),
      wg.layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const json = model.toJSON();
    const copy = wg.modelFromJSON(JSON.stringify(json));
    expect(copy.toJSON().config.layers.map((l) => l.className)).toEqual([
      'Conv2D',
      'MaxPooling2D',
      'Conv2D',
      'AveragePooling2D',
      'DepthwiseConv2D',
      'SeparableConv2D',
      'Dropout',
      'Reshape',
      'Flatten',
      'Dense',
    ]);
    expect(JSON.stringify(copy.toJSON().config.layers.map((l) => ({ ...l.config, name: 0 })))).toBe(
      JSON.stringify(json.config.layers.map((l) => ({ ...l.config, name: 0 }))),
    );
    copy.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    copy.setWeights(model.getWeights());
    expect(copy.outputShape).toEqual(model.outputShape);
    const x = wg.randomNormal([2, 8, 8, 1]);
    assertClose(copy.predict(x).dataSync(), model.predict(x).dataSync(), { atol: 0, rtol: 0 }, 'round trip');
    const gap = wg.modelFromJSON(
      JSON.stringify(
        wg
          .sequential([
            wg.layers.conv2d({ filters: 2, kernelSize: 1, inputShape: [3, 3, 2] }),
            wg.layers.globalAveragePooling2d(),
          ])
          .toJSON(),
      ),
    );
    expect(gap.outputShape).toEqual([2]);
    model.dispose();
    copy.dispose();
  });

  it('bad shapes and options give typed errors naming the layer', async () => {
    await wg.ready();
    const build = (layers: wg.layers.Layer[]) => {
      const m = wg.sequential(layers);
      m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      return m;
    };
    // Kernel larger than the input.
    expect(() => build([wg.layers.conv2d({ filters: 2, kernelSize: 5, inputShape: [4, 4, 1], name: 'big' })])).toThrow(
      wg.ShapeError,
    );
    expect(() => build([wg.layers.conv2d({ filters: 2, kernelSize: 5, inputShape: [4, 4, 1], name: 'big2' })])).toThrow(
      /big2.*filter span 5/,
    );
    // Dilation makes the span exceed the input.
    expect(() =>
      build([wg.layers.conv2d({ filters: 1, kernelSize: 3, dilationRate: 3, inputShape: [6, 6, 1] })]),
    ).toThrow(wg.ShapeError);
    // Pool larger than the input.
    expect(() => build([wg.layers.maxPooling2d({ poolSize: 5, inputShape: [4, 4, 1] })])).toThrow(wg.ShapeError);
    // Wrong input rank.
    expect(() => build([wg.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [28, 28], name: 'flat' })])).toThrow(
      /flat.*rank 4/,
    );
    expect(() => build([wg.layers.dense({ units: 3, inputShape: [4] }), wg.layers.maxPooling2d({})])).toThrow(
      wg.ShapeError,
    );
    expect(() => build([wg.layers.globalAveragePooling2d({ inputShape: [4, 4] })])).toThrow(wg.ShapeError);
    expect(() => build([wg.layers.reshape({ targetShape: [5], inputShape: [2, 3] })])).toThrow(wg.ShapeError);
    expect(() => build([wg.layers.reshape({ targetShape: [-1, 4], inputShape: [2, 3] })])).toThrow(wg.ShapeError);
    // Bad options.
    expect(() => wg.layers.conv2d({ filters: 0, kernelSize: 3 })).toThrow(wg.ValueError);
    expect(() => wg.layers.conv2d({ filters: -2, kernelSize: 3 })).toThrow(wg.ValueError);
    expect(() => wg.layers.conv2d({ filters: 2, kernelSize: [3, 0] })).toThrow(wg.ValueError);
    expect(() => wg.layers.conv2d({ filters: 2, kernelSize: 3, strides: 0 })).toThrow(wg.ValueError);
    expect(() => wg.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'full' as never })).toThrow(wg.ValueError);
    expect(() => wg.layers.maxPooling2d({ poolSize: 1.5 })).toThrow(wg.ValueError);
    expect(() => wg.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 0 })).toThrow(wg.ValueError);
    expect(() => wg.layers.separableConv2d({ filters: 0, kernelSize: 3 })).toThrow(wg.ValueError);
    expect(() =>
      build([wg.layers.separableConv2d({ filters: 2, kernelSize: 4, inputShape: [3, 5, 2], name: 'sep' })]),
    ).toThrow(/sep.*height filter span 4/);
    expect(() => wg.layers.dropout({ rate: 1 })).toThrow(wg.ValueError);
    expect(() => wg.layers.dropout({ rate: -0.1 })).toThrow(wg.ValueError);
    expect(() => wg.layers.reshape({ targetShape: [-1, -1] })).toThrow(wg.ValueError);
    // An input of the wrong shape for a built model.
    const m = build([wg.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1] })]);
    expect(() => m.predict(wg.zeros([2, 5, 5, 2]))).toThrow(/expected x of shape \[n,5,5,1\]/);
    expect(() => m.predict(wg.zeros([2, 25]))).toThrow(/expected x of shape/);
    m.dispose();
  });
});
