import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { checkOp, checkVjpDirections } from '../shared/gradcheck.js';
import { assertClose, matMulReference } from '../shared/tolerance.js';

beforeAll(async () => {
  await wg.ready();
});

/** Row-major transpose of an [r, c] matrix. */
const transposeRef = (x: Float64Array, r: number, c: number): Float64Array => {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j] as number;
  return out;
};

describe('matMul forward and backward', () => {
  // C = op(A)·op(B); dA = dy·op(B)ᵀ, dB = op(A)ᵀ·dy (transposed back when op transposes).
  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`transposeA=${tA} transposeB=${tB} matches f64 finite differences`, () => {
      const [m, k, n] = [3, 5, 4];
      checkOp({
        name: `matMul(tA=${tA}, tB=${tB})`,
        op: (a, b) => wg.matMul(a as wg.Tensor, b as wg.Tensor, tA, tB),
        ref: (a, b) => matMulReference(tA ? transposeRef(a, k, m) : a, tB ? transposeRef(b, n, k) : b, m, k, n),
        shapes: [tA ? [k, m] : [m, k], tB ? [n, k] : [k, n]],
      });
    });
  }

  it('multiplies batches of matrices, sharing a plain matrix across the batch', () => {
    /** f64 batched product: batch matrices of a (aCount 1 = shared) times those of b. */
    const batchedRef =
      (batch: number, aCount: number, bCount: number, m: number, k: number, n: number, tA: boolean, tB: boolean) =>
      (a: Float64Array, b: Float64Array) => {
        const out = new Float64Array(batch * m * n);
        for (let i = 0; i < batch; i++) {
          const ai = a.subarray((aCount === 1 ? 0 : i) * m * k, (aCount === 1 ? 1 : i + 1) * m * k);
          const bi = b.subarray((bCount === 1 ? 0 : i) * k * n, (bCount === 1 ? 1 : i + 1) * k * n);
          out.set(
            matMulReference(tA ? transposeRef(ai, k, m) : ai, tB ? transposeRef(bi, n, k) : bi, m, k, n),
            i * m * n,
          );
        }
        return out;
      };
    const [m, k, n] = [3, 4, 5];
    const cases: [string, number[], number[], boolean, boolean, number, number, number][] = [
      ['stack × stack', [2, 3, m, k], [2, 3, k, n], false, false, 6, 6, 6],
      ['stack × matrix (one tall gemm)', [2, m, k], [k, n], false, false, 2, 2, 1],
      ['stackᵀ × matrixᵀ', [2, k, m], [n, k], true, true, 2, 2, 1],
      ['matrix × stack', [m, k], [3, k, n], false, false, 3, 1, 3],
      ['stack × stackᵀ', [2, m, k], [2, n, k], false, true, 2, 2, 2],
    ];
    for (const [name, sa, sb, tA, tB, batch, aCount, bCount] of cases) {
      checkOp({
        name: `matMul ${name}`,
        op: (a, b) => wg.matMul(a as wg.Tensor, b as wg.Tensor, tA, tB),
        ref: batchedRef(batch, aCount, bCount, m, k, n, tA, tB),
        shapes: [sa, sb],
      });
    }
    wg.tidy(() => {
      expect(() => wg.matMul(wg.zeros([2, 3, 4]), wg.zeros([3, 4, 5]))).toThrow(
        /matMul: batch dimensions differ: \[2,3,4\] × \[3,4,5\]/,
      );
    });
  });

  it('accumulates the gradient of an input used several times', () => {
    // f(x) = x·x + (x·w)·x: each use adds its own term to dx (in place, or through gemm's β = 1).
    const w = [0.5, -1, 2, 0.25, 1, -0.5, 0.75, 0.1, -2];
    checkOp({
      name: 'x·x',
      op: (x) => wg.matMul(x as wg.Tensor, x as wg.Tensor),
      ref: (x) => matMulReference(x, x, 3, 3, 3),
      shapes: [[3, 3]],
    });
    checkOp({
      name: '(x·w)·x, x·wᵀ',
      op: (x) =>
        wg.concat(
          [
            wg.matMul(wg.matMul(x as wg.Tensor, wg.tensor(w, [3, 3])), x as wg.Tensor),
            wg.matMul(x as wg.Tensor, wg.tensor(w, [3, 3]), false, true),
          ],
          0,
        ),
      ref: (x) => {
        const out = new Float64Array(18);
        out.set(matMulReference(matMulReference(x, w, 3, 3, 3), x, 3, 3, 3));
        out.set(matMulReference(x, transposeRef(Float64Array.from(w), 3, 3), 3, 3, 3), 9);
        return out;
      },
      shapes: [[3, 3]],
    });
  });

  it('passes a random-direction VJP check at 64×96×48', () => {
    checkVjpDirections({
      name: 'matMul 64x96x48',
      op: (a, b) => wg.matMul(a as wg.Tensor, b as wg.Tensor, false, true),
      ref: (a, b) => matMulReference(a, transposeRef(b, 48, 96), 64, 96, 48),
      shapes: [
        [64, 96],
        [48, 96],
      ],
    });
  });

  it('names both shapes when they do not fit', () => {
    wg.tidy(() => {
      const a = wg.zeros([2, 3]);
      expect(() => wg.matMul(a, a)).toThrow(/matMul: inner dimensions differ: \[2,3\] × \[2,3\] \(3 ≠ 2\)/);
      expect(() => wg.matMul(a, a, false, true)).not.toThrow();
      expect(() => wg.matMul(wg.zeros([2]), a)).toThrow(wg.ShapeError);
    });
  });
});

describe('shape ops backward', () => {
  it('reshape, transpose, clone, concat and slice route gradients back', () => {
    checkOp({
      name: 'transpose∘reshape',
      op: (x) => wg.transpose(wg.reshape(x as wg.Tensor, [3, 4])),
      ref: (x) => transposeRef(x, 3, 4),
      shapes: [[2, 6]],
    });
    checkOp({
      name: 'transpose [2,3,4] perm [2,0,1]',
      op: (x) => wg.transpose(x as wg.Tensor, [2, 0, 1]),
      ref: (x) => {
        const out = new Float64Array(24);
        for (let a = 0; a < 2; a++)
          for (let b = 0; b < 3; b++)
            for (let c = 0; c < 4; c++) out[c * 6 + a * 3 + b] = x[a * 12 + b * 4 + c] as number;
        return out;
      },
      shapes: [[2, 3, 4]],
    });
    checkOp({ name: 'clone', op: (x) => wg.clone(x as wg.Tensor), ref: (x) => x.slice(), shapes: [[5]] });
    checkOp({
      name: 'concat axis 1',
      op: (a, b) => wg.concat([a as wg.Tensor, b as wg.Tensor], 1),
      ref: (a, b) => {
        const out = new Float64Array(2 * 5);
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) out[i * 5 + j] = a[i * 2 + j] as number;
          for (let j = 0; j < 3; j++) out[i * 5 + 2 + j] = b[i * 3 + j] as number;
        }
        return out;
      },
      shapes: [
        [2, 2],
        [2, 3],
      ],
    });
    checkOp({
      name: 'slice',
      op: (x) => wg.slice(x as wg.Tensor, [1, 1], [2, 2]),
      ref: (x) => Float64Array.from([x[5], x[6], x[9], x[10]] as number[]),
      shapes: [[3, 4]],
    });
  });
});

describe('tape, grad functions and variables', () => {
  it('grad/valueAndGrad/grads agree and return zeros for unused inputs', () => {
    const a = wg.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = wg.tensor2d([5, 6, 7, 8], [2, 2]);
    const bCopy = b.clone();
    const f = (x: wg.Tensor) => wg.matMul(x, b);
    const g = wg.grad(f)(a);
    const { value, grad } = wg.valueAndGrad(f)(a);
    // dy = ones: dA = ones·Bᵀ → each row is the row sums of B.
    expect(g.arraySync()).toEqual([
      [11, 15],
      [11, 15],
    ]);
    expect(grad.arraySync()).toEqual(g.arraySync());
    expect(value.arraySync()).toEqual([
      [19, 22],
      [43, 50],
    ]);
    const [ga, unused] = wg.grads((x, _y) => wg.matMul(x as wg.Tensor, bCopy))([a, b]);
    expect(ga?.arraySync()).toEqual(g.arraySync());
    expect(unused?.arraySync()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    wg.dispose([a, b, bCopy, g, value, grad, ga, unused]);
  });

  it('a tidy inside the differentiated function keeps what the tape needs', () => {
    const a = wg.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = wg.tensor2d([0.5, -1, 2, 0.25], [2, 2]);
    const before = wg.memory().numTensors;
    const plain = wg.grad((x) => wg.matMul(wg.matMul(x, b), b))(a);
    const tidied = wg.grad((x) =>
      wg.tidy(() =>
        wg.matMul(
          wg.tidy(() => wg.matMul(x, b)),
          b,
        ),
      ),
    )(a);
    expect(Array.from(tidied.dataSync())).toEqual(Array.from(plain.dataSync()));
    wg.dispose([plain, tidied]);
    expect(wg.memory().numTensors).toBe(before);
    wg.dispose([a, b]);
  });

  it('records nothing outside a gradient computation and refuses nesting', () => {
    const x = wg.tensor2d([1, 2, 3, 4], [2, 2]);
    expect(() => wg.grad((y) => wg.grad((z) => wg.matMul(z, z))(y))(x)).toThrow(/nested gradient computations/);
    expect(() => wg.grad(() => 3 as unknown as wg.Tensor)(x)).toThrow(/f must return a Tensor/);
    expect(() => wg.grad((y) => wg.matMul(y, y))(x, wg.zeros([3]))).toThrow(
      /grad: dy has shape \[3\], f\(x\) has shape \[2,2\]/,
    );
    wg.dispose(x);
  });

  it('variableGrads differentiates trainable variables by name', () => {
    const w = wg.variable(wg.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), true, 'core_w');
    const frozen = wg.variable(wg.tensor2d([1, 0, 0, 1], [2, 2]), false, 'core_frozen');
    const x = wg.tensor2d([1, 1, 1], [1, 3]);
    const ones = wg.ones([2, 1]);
    const f = () => wg.matMul(wg.matMul(wg.matMul(x, w), frozen), ones).reshape([]);
    const { value, grads } = wg.variableGrads(f);
    expect(Object.keys(grads)).toContain('core_w');
    expect(Object.keys(grads)).not.toContain('core_frozen');
    // value = x·w·I·1 = sum of w; d/dw = xᵀ·1ᵀ·Iᵀ = ones.
    expect(value.arraySync()).toEqual(21);
    expect(grads.core_w?.arraySync()).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    const only = wg.variableGrads(f, [frozen]);
    expect(Object.keys(only.grads)).toEqual(['core_frozen']);
    w.assign(wg.tidy(() => wg.zeros([3, 2])));
    expect(Array.from(w.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => w.assign(wg.zeros([2, 3]))).toThrow(
      /assign: variable 'core_w' has shape \[3,2\], the new value \[2,3\]/,
    );
    expect(() => wg.variable(x, true, 'core_w')).toThrow(/already exists/);
    expect(() => wg.variableGrads(() => wg.matMul(x, w))).toThrow(
      /variableGrads: f must return a scalar, got shape \[1,2\]/,
    );
    wg.dispose([w, frozen, x, ones, value, only.value, grads, only.grads]);
  });
});

describe('memory', () => {
  it('tidy keeps only what is returned; variables and keep() survive', () => {
    const before = wg.memory();
    let kept: wg.Tensor | undefined;
    const out = wg.tidy(() => {
      const a = wg.ones([4, 4]);
      const b = wg.matMul(a, a);
      kept = wg.keep(wg.zeros([2]));
      const inner = wg.tidy(() => [wg.matMul(b, b), wg.zeros([1])]);
      return { c: inner[0] as wg.Tensor };
    });
    expect(wg.memory().numTensors).toBe(before.numTensors + 2);
    assertClose(out.c.dataSync(), new Float64Array(16).fill(64));
    wg.dispose([out.c, kept]);
    expect(wg.memory().numTensors).toBe(before.numTensors);
    expect(wg.memory().numBytes).toBe(before.numBytes);
    expect(() => wg.tidy(() => Promise.resolve() as unknown as wg.Tensor)).toThrow(
      /tidy: the function returned a Promise/,
    );
  });

  it('1,000 gradient steps inside tidy leave tensors and wasm memory flat', () => {
    // A two-layer MLP trained by plain SGD with the tensor API: dense → relu → dense →
    // logSoftmax → mean, gradients by variableGrads, updates by assign.
    const w1 = wg.variable(
      wg.tidy(() => wg.randomNormal([32, 16], 0, 0.1, 1)),
      true,
      'soak_w1',
    );
    const b1 = wg.variable(
      wg.tidy(() => wg.zeros([16])),
      true,
      'soak_b1',
    );
    const w2 = wg.variable(
      wg.tidy(() => wg.randomNormal([16, 4], 0, 0.1, 2)),
      true,
      'soak_w2',
    );
    const x = wg.randomUniform([8, 32], -1, 1, 3);
    const params = [w1, b1, w2];
    const losses: number[] = [];
    const step = () =>
      wg
        .tidy(() => {
          const { value, grads } = wg.variableGrads(() => {
            const h = wg.relu(wg.add(wg.matMul(x, w1), b1));
            return wg.neg(wg.mean(wg.slice(wg.logSoftmax(wg.matMul(h, w2)), [0, 0], [8, 1])));
          }, params);
          for (const p of params) p.assign(wg.sub(p, wg.mul(grads[p.name] as wg.Tensor, 0.1)));
          losses.push(value.dataSync()[0] as number);
          return value;
        })
        .dispose();
    step();
    const before = wg.memory();
    for (let i = 0; i < 1000; i++) step();
    const after = wg.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.wasmBytes).toBe(before.wasmBytes);
    expect(after.heapLiveBytes).toBe(before.heapLiveBytes);
    // The loss of always predicting class 0 falls from log 4.
    expect(losses[0]).toBeGreaterThan(1);
    expect(losses[losses.length - 1]).toBeLessThan(0.05);
    wg.dispose([...params, x]);
  });
});
