import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError } from '../../packages/wasmgrad/src/errors.js';
import * as ew from '../../packages/wasmgrad/src/runtime/kernels/elementwise.js';
import { createRuntime, type Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

// ---- f64 references ----

const SELU_A = 1.6732632423543772;
const SELU_L = 1.0507009873554805;
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** erf in f64: Maclaurin series for |x| < 3, continued fraction of erfc beyond. */
function erf(x: number): number {
  if (Math.abs(x) < 3) {
    let sum = x;
    let term = x;
    for (let k = 1; k < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
      term *= (-x * x) / k;
      sum += term / (2 * k + 1);
    }
    return (sum * 2) / Math.sqrt(Math.PI);
  }
  const z = Math.abs(x);
  let f = z;
  for (let k = 59; k >= 1; k--) f = z + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-z * z) / (f * Math.sqrt(Math.PI)));
}

const C = Math.sqrt(2 / Math.PI);
const REF: Record<ew.ActivationName, (x: number, a: number) => number> = {
  linear: (x) => x,
  relu: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)),
  relu6: (x) => (Number.isNaN(x) ? x : Math.min(Math.max(x, 0), 6)),
  leakyRelu: (x, a) => (x > 0 ? x : a * x),
  elu: (x, a) => (x > 0 ? x : a * Math.expm1(x)),
  selu: (x) => SELU_L * (x > 0 ? x : SELU_A * Math.expm1(x)),
  sigmoid: sig,
  tanh: Math.tanh,
  softplus,
  silu: (x) => x * sig(x),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  geluSigmoid: (x) => x * sig(1.702 * x),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(C * (x + 0.044715 * x ** 3))),
  mish: (x) => x * Math.tanh(softplus(x)),
};

const runtimes: Record<string, Runtime> = {};
beforeAll(async () => {
  runtimes.simd = await createRuntime({ simd: true });
  runtimes.scalar = await createRuntime({ simd: false });
});

const KINDS = Object.keys(ew.ACTIVATION) as ew.ActivationName[];
const ALPHA = 0.2;

function inputs(n: number): number[] {
  const rand = seededRandom(42);
  const xs = [0.5, -0.5, 1e-6, -1e-6, 6.5, -12, 15, 5.9, 0.01];
  while (xs.length < n) xs.push(rand(-8, 8));
  return xs.map(Math.fround);
}

function run(rt: Runtime, kind: ew.ActivationName, xs: number[], dys: number[], dx0?: number[]) {
  const n = xs.length;
  const [x, y, dy, dx] = [0, 1, 2, 3].map(() => rt.allocF32(n));
  rt.write(x as number, xs);
  rt.write(dy as number, dys);
  rt.write(y as number, new Array(n).fill(Number.NaN));
  rt.write(dx as number, dx0 ?? new Array(n).fill(Number.NaN));
  ew.activationForward(rt, kind, n, x as number, y as number, ALPHA);
  ew.activationBackward(rt, kind, n, x as number, y as number, dy as number, dx as number, {
    alpha: ALPHA,
    accumulate: dx0 !== undefined,
  });
  return { y: Array.from(rt.read(y as number, n)), dx: Array.from(rt.read(dx as number, n)) };
}

describe.each(['simd', 'scalar'])('activations (%s build)', (build) => {
  it.each(KINDS)('%s: forward against f64, backward against central differences of the f64 reference', (kind) => {
    const rt = runtimes[build] as Runtime;
    const xs = inputs(203);
    const dys = inputs(203).map((v, i) => Math.fround(0.5 + ((i * 7) % 5) * 0.3 + 0 * v));
    const { y, dx } = run(rt, kind, xs, dys);
    const f = REF[kind];
    assertClose(
      y,
      xs.map((x) => f(x, ALPHA)),
      { atol: 5e-7, rtol: 1e-6 },
      `${kind} forward`,
    );
    // d/dx by central differences of the f64 reference; kinks of relu-like functions excluded.
    const want: number[] = [];
    const got: number[] = [];
    xs.forEach((x, i) => {
      if (Math.abs(x) < 1e-3 || Math.abs(x - 6) < 1e-3) return;
      const h = 1e-5 * Math.max(1, Math.abs(x));
      want.push(((dys[i] as number) * (f(x + h, ALPHA) - f(x - h, ALPHA))) / (2 * h));
      got.push(dx[i] as number);
    });
    assertClose(got, want, { atol: 2e-6, rtol: 2e-5 }, `${kind} backward`);
  });

  it('accumulates into dx and writes every tail element', () => {
    const rt = runtimes[build] as Runtime;
    for (const n of [1, 3, 4, 5, 7, 8, 9]) {
      const xs = inputs(n);
      const dys = new Array(n).fill(1.5);
      const plain = run(rt, 'gelu', xs, dys);
      const base = xs.map((_, i) => i * 0.25);
      const acc = run(rt, 'gelu', xs, dys, base);
      expect(plain.dx.every((v) => !Number.isNaN(v))).toBe(true);
      expect(acc.dx).toEqual(base.map((b, i) => Math.fround(b + (plain.dx[i] as number))));
    }
  });

  it('propagates NaN and takes IEEE limits at ±Inf', () => {
    const rt = runtimes[build] as Runtime;
    for (const kind of KINDS) {
      const { y, dx } = run(
        rt,
        kind,
        [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1],
        [1, 1, 1, Number.NaN],
      );
      expect(Number.isNaN(y[0] as number) && Number.isNaN(dx[0] as number), kind).toBe(true);
      expect(Number.isNaN(dx[3] as number), `${kind}: NaN dy reaches dx`).toBe(true);
      expect(y.slice(1, 3).some(Number.isNaN) || dx.slice(1, 3).some(Number.isNaN), kind).toBe(false);
    }
    const relu = run(rt, 'relu', [Number.NaN, Number.NEGATIVE_INFINITY], [1, 1]);
    expect(Number.isNaN(relu.y[0] as number)).toBe(true);
    expect(relu.y[1]).toBe(0);
    expect(run(rt, 'sigmoid', [Number.POSITIVE_INFINITY], [1]).y[0]).toBe(1);
  });

  it('broadcast add/sub/mul/div, scale and axpy match f64 for every operand shape', () => {
    const rt = runtimes[build] as Runtime;
    const rand = seededRandom(7);
    const [rows, cols] = [5, 11];
    const aVals = Array.from({ length: rows * cols }, () => Math.fround(rand(-3, 3)));
    const bVals = Array.from({ length: rows * cols }, () => Math.fround(rand(0.5, 2)));
    const a = rt.allocF32(rows * cols);
    const b = rt.allocF32(rows * cols);
    const y = rt.allocF32(rows * cols);
    rt.write(a, aVals);
    rt.write(b, bVals);
    const index: Record<ew.BroadcastShape, (i: number, j: number) => number> = {
      full: (i, j) => i * cols + j,
      row: (_, j) => j,
      column: (i) => i,
      scalar: () => 0,
    };
    const ops: Record<ew.BinaryOpName, (p: number, q: number) => number> = {
      add: (p, q) => p + q,
      sub: (p, q) => p - q,
      mul: (p, q) => p * q,
      div: (p, q) => p / q,
    };
    for (const shape of Object.keys(index) as ew.BroadcastShape[]) {
      for (const name of Object.keys(ops) as ew.BinaryOpName[]) {
        ew.broadcastBinary(rt, name, rows, cols, a, b, shape, y);
        const want = aVals.map((v, k) =>
          (ops[name] as (p: number, q: number) => number)(
            v,
            bVals[index[shape](Math.floor(k / cols), k % cols)] as number,
          ),
        );
        assertClose(rt.read(y, rows * cols), want, { atol: 0, rtol: 6e-8 }, `${name} ${shape}`);
      }
    }
    ew.scale(rt, rows * cols, a, 1.5, -0.25, y);
    assertClose(
      rt.read(y, rows * cols),
      aVals.map((v) => 1.5 * v - 0.25),
      { atol: 1e-7, rtol: 1.2e-7 },
      'scale',
    );
    ew.axpy(rt, rows * cols, -2, b, y);
    assertClose(
      rt.read(y, rows * cols),
      aVals.map((v, k) => 1.5 * v - 0.25 - 2 * (bVals[k] as number)),
      { atol: 2e-7, rtol: 3e-7 },
      'axpy',
    );
  });

  it('unary math ops match f64 (exp/log within 1 ulp) with IEEE specials', () => {
    const rt = runtimes[build] as Runtime;
    const refs: Record<ew.UnaryOpName, (v: number) => number> = {
      exp: Math.exp,
      log: Math.log,
      expm1: Math.expm1,
      log1p: Math.log1p,
      sqrt: Math.sqrt,
      abs: Math.abs,
      neg: (v) => -v,
      square: (v) => v * v,
      reciprocal: (v) => 1 / v,
      erf,
    };
    const rand = seededRandom(3);
    const xs = [0, -0, 1, 1e-30, 80, -90, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1];
    while (xs.length < 301) xs.push(Math.fround(rand(-30, 30)));
    const x = rt.allocF32(xs.length);
    const y = rt.allocF32(xs.length);
    rt.write(x, xs);
    for (const name of Object.keys(refs) as ew.UnaryOpName[]) {
      ew.unary(rt, name, xs.length, x, y);
      const want = xs.map((v) => Math.fround((refs[name] as (v: number) => number)(v)));
      // 1 ulp ≈ 1.2e-7 relative; the composite ops stay within 2.2e-7.
      const rtol = name === 'exp' || name === 'log' ? 1.2e-7 : 2.5e-7;
      assertClose(rt.read(y, xs.length), want, { atol: 1e-45, rtol }, name);
    }
  });

  it('rejects bad arguments with typed errors', () => {
    const rt = runtimes[build] as Runtime;
    const p = rt.allocF32(8);
    expect(() => ew.activationForward(rt, 'nope' as ew.ActivationName, 8, p, p)).toThrow(ValueError);
    expect(() => ew.activationForward(rt, 'relu', -1, p, p)).toThrow(ValueError);
    expect(() => ew.activationForward(rt, 'relu', 1.5, p, p)).toThrow(ValueError);
    expect(() => ew.activationForward(rt, 'relu', 8, p, rt.memory.buffer.byteLength - 8)).toThrow(ValueError);
    expect(() => ew.activationForward(rt, 'relu', 8, p + 2, p)).toThrow(ValueError);
    expect(() => ew.activationForward(rt, 'elu', 8, p, p, Number.NaN)).toThrow(ValueError);
    expect(() => ew.activationBackward(rt, 'relu', 8, p, p, p, 0)).toThrow(ValueError);
    expect(() => ew.broadcastBinary(rt, 'pow' as ew.BinaryOpName, 2, 4, p, p, 'row', p)).toThrow(ValueError);
    expect(() => ew.broadcastBinary(rt, 'add', 2, 4, p, p, 'diag' as ew.BroadcastShape, p)).toThrow(ValueError);
    expect(() => ew.scale(rt, 8, p, 1, 0, rt.memory.buffer.byteLength)).toThrow(ValueError);
    expect(() => ew.axpy(rt, -3, 1, p, p)).toThrow(ValueError);
    expect(() => ew.unary(rt, 'cbrt' as ew.UnaryOpName, 8, p, p)).toThrow(ValueError);
  });
});

describe('builds agree and exp is fast', () => {
  it('SIMD and scalar builds give identical bits for every activation', () => {
    const xs = inputs(101);
    const dys = new Array(101).fill(0.75);
    for (const kind of KINDS) {
      const s = run(runtimes.simd as Runtime, kind, xs, dys);
      const c = run(runtimes.scalar as Runtime, kind, xs, dys);
      expect(new Float32Array(s.y), kind).toEqual(new Float32Array(c.y));
      expect(new Float32Array(s.dx), kind).toEqual(new Float32Array(c.dx));
    }
  });

  it('exp and sigmoid over 1M floats report their throughput', () => {
    const n = 1 << 20;
    const time = (rt: Runtime, f: (x: number, y: number) => void) => {
      const x = rt.allocF32(n);
      const y = rt.allocF32(n);
      rt.write(
        x,
        Float32Array.from({ length: n }, (_, i) => (i % 2000) / 100 - 10),
      );
      for (let i = 0; i < 3; i++) f(x, y);
      const reps = 20;
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) f(x, y);
      return (n * reps) / ((performance.now() - t0) * 1e6);
    };
    const report: string[] = [];
    for (const build of ['simd', 'scalar']) {
      const rt = runtimes[build] as Runtime;
      const e = time(rt, (x, y) => ew.unary(rt, 'exp', n, x, y));
      const s = time(rt, (x, y) => ew.activationForward(rt, 'sigmoid', n, x, y));
      report.push(`${build}: exp ${e.toFixed(2)}, sigmoid ${s.toFixed(2)} Gelem/s`);
      expect(e).toBeGreaterThan(0.02);
    }
    console.log(report.join('; '));
  });
});
