/**
 * The Deep & Cross Network cross layer, x_{l+1} = x₀ ⊙ (x_l·W + b) + x_l (TF-Recommenders
 * `tfrs.layers.dcn.Cross`; W = U·V when low-rank): gradients of full- and low-rank kernels, with
 * and without bias, called as apply(x0) and apply([x0, xl]), against f64 finite differences.
 * Derivatives: ∂y/∂x₀ = p (p = x_l·W + b), ∂y/∂x_l = 1 + Wᵀ(dy ⊙ x₀), ∂L/∂W = x_lᵀ·(dy ⊙ x₀),
 * ∂L/∂b = Σ_rows dy ⊙ x₀. Then the issue's task: a DCN beats an MLP of about equal size on held-out
 * data whose target depends on feature products.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { checkModelGradients, cross, dense, type F64 } from '../shared/functional-ref.js';
import { seededRandom } from '../shared/tolerance.js';

type Sym = wg.SymbolicTensor;
const D = 5;

beforeAll(async () => {
  await wg.ready();
});

describe('cross layer gradients', () => {
  for (const projectionDim of [undefined, 2]) {
    for (const useBias of [true, false]) {
      it(`${projectionDim ? `low rank ${projectionDim}` : 'full rank'}, ${useBias ? 'with' : 'without'} bias, apply(x0) then apply([x0, xl])`, () => {
        const x = wg.input({ shape: [D] });
        const c1 = wg.layers.cross({ projectionDim, useBias }).apply(x) as Sym;
        const c2 = wg.layers.cross({ projectionDim, useBias }).apply([x, c1]) as Sym;
        const model = wg.model({ inputs: x, outputs: wg.layers.dense({ units: 2 }).apply(c2) as Sym });
        const per = (projectionDim ? 2 : 1) + (useBias ? 1 : 0);
        expect(model.weights.length).toBe(2 * per + 2);
        const forward = (w: F64[], xv: F64) => {
          const layer = (k: number) => {
            const kernel: F64 | [F64, F64] = projectionDim ? [w[k] as F64, w[k + 1] as F64] : (w[k] as F64);
            return [kernel, useBias ? (w[k + per - 1] as F64) : undefined] as const;
          };
          const [k1, b1] = layer(0);
          const h1 = cross(xv, xv, D, k1, b1);
          const [k2, b2] = layer(per);
          const h2 = cross(xv, h1, D, k2, b2);
          return dense(h2, w[2 * per] as F64, w[2 * per + 1] as F64, D);
        };
        const weights = projectionDim ? 2 * D * projectionDim : D * D;
        expect(checkModelGradients(model, forward, 4, 31, 0.6)).toBe(2 * (weights + (useBias ? D : 0)) + 2 * D + 2);
      });
    }
  }

  it('in a Sequential model (x_l = x₀ = the previous output) and frozen: no weight gradient', () => {
    const layer = wg.layers.cross({ inputShape: [D] });
    const model = wg.sequential([layer, wg.layers.dense({ units: 1 })]);
    const forward = (w: F64[], xv: F64) =>
      dense(cross(xv, xv, D, w[0] as F64, w[1] as F64), w[2] as F64, w[3] as F64, D);
    checkModelGradients(model, forward, 3, 41);
    layer.trainable = false;
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const { grads } = model.lossAndGradients(wg.ones([2, D]), wg.ones([2, 1]));
    expect(Array.from((grads[0] as wg.Tensor).dataSync()).every((v) => v === 0)).toBe(true);
  });

  it('bad options and shapes are typed errors naming the layer and the shapes', () => {
    const x = wg.input({ shape: [D] });
    const y = wg.input({ shape: [D + 1] });
    expect(() => wg.layers.cross({ name: 'cx' }).apply([x, y])).toThrow(
      /cx: x0 and xl must have one shape, got \[5\] and \[6\]/,
    );
    expect(() => wg.layers.cross().apply([x, x, x])).toThrow(/takes 1 or 2 inputs/);
    expect(() => wg.layers.cross({ projectionDim: 0 })).toThrow(wg.ValueError);
    expect(() => wg.layers.cross({ projectionDim: 1.5 })).toThrow(/projectionDim must be a positive integer/);
  });

  it('JSON round trip keeps projectionDim, useBias and initializers', () => {
    const x = wg.input({ shape: [D] });
    const c = wg.layers.cross({ projectionDim: 3, useBias: false, kernelInitializer: 'glorotUniform' }).apply(x) as Sym;
    const json = wg.model({ inputs: x, outputs: c }).toJSON();
    const back = wg.modelFromJSON(JSON.stringify(json));
    expect(back.toJSON()).toEqual(json);
    expect(back.weights.map((w) => w.shape)).toEqual([
      [D, 3],
      [3, D],
    ]);
  });
});

/**
 * Tabular data whose target is a sum of pairwise feature products plus noise:
 * y = Σ_{(i,j)∈P} c_ij·x_i·x_j + 0.1·ε over 16 standard-normal features and 12 random pairs
 * (coefficients ±1, scaled to unit target variance).
 */
function productData(n: number, seed: number, pairs: [number, number, number][]) {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rand(1e-12, 1))) * Math.cos(2 * Math.PI * rand(0, 1));
  const x = new Float32Array(n * 16);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < 16; j++) x[r * 16 + j] = normal();
    let t = 0;
    for (const [i, j, c] of pairs) t += c * (x[r * 16 + i] as number) * (x[r * 16 + j] as number);
    y[r] = t / Math.sqrt(pairs.length) + 0.1 * normal();
  }
  return { x: wg.tensor(x, [n, 16]), y: wg.tensor(y, [n, 1]) };
}

describe('DCN vs MLP on feature products', () => {
  // Measured (seeds as below, SIMD build, Node 22): DCN 977 parameters, held-out MSE 0.0180;
  // MLP 16→32→12→1, 953 parameters, held-out MSE 0.0940 (the noise floor is 0.01). ~3 s for both.
  it('a DCN (2 cross layers ∥ deep tower → dense) beats an MLP of about equal size on held-out MSE', async () => {
    const rand = seededRandom(2024);
    const pairs: [number, number, number][] = [];
    while (pairs.length < 12) {
      const i = Math.floor(rand(0, 16));
      const j = Math.floor(rand(0, 16));
      if (i !== j) pairs.push([i, j, rand(0, 1) < 0.5 ? -1 : 1]);
    }
    const train = productData(3000, 1, pairs);
    const test = productData(1000, 2, pairs);
    wg.setSeed(7);
    const x = wg.input({ shape: [16] });
    const c1 = wg.layers.cross().apply(x) as Sym;
    const c2 = wg.layers.cross().apply([x, c1]) as Sym;
    const d1 = wg.layers.dense({ units: 16, activation: 'relu' }).apply(x) as Sym;
    const d2 = wg.layers.dense({ units: 8, activation: 'relu' }).apply(d1) as Sym;
    const cat = wg.layers.concatenate().apply([c2, d2]) as Sym;
    const dcn = wg.model({ inputs: x, outputs: wg.layers.dense({ units: 1 }).apply(cat) as Sym, name: 'dcn' });
    const mlp = wg.sequential({
      name: 'mlp',
      layers: [
        wg.layers.dense({ units: 32, activation: 'relu', inputShape: [16] }),
        wg.layers.dense({ units: 12, activation: 'relu' }),
        wg.layers.dense({ units: 1 }),
      ],
    });
    const sizes = [dcn, mlp].map((m) => {
      m.compile({ optimizer: wg.optimizers.adam({ learningRate: 0.005 }), loss: 'meanSquaredError' });
      return m.countParams();
    });
    const scores: number[] = [];
    for (const m of [dcn, mlp]) {
      await m.fit(train.x, train.y, { epochs: 25, batchSize: 64, seed: 3 });
      scores.push(m.evaluate(test.x, test.y).loss as number);
    }
    expect(Math.abs((sizes[0] as number) - (sizes[1] as number)) / (sizes[1] as number)).toBeLessThan(0.1);
    expect(scores[0]).toBeLessThan(0.5 * (scores[1] as number));
  });
});
