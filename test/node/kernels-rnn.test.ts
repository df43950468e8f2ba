/**
 * The rnn kernels in both wasm builds: LSTM and GRU gate steps against f64 references of the Keras
 * equations, their backward steps against central finite differences of those references, the
 * 3-D row copy and the embedding scatter-add; SIMD and scalar agree; bad arguments throw typed
 * errors before any call.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import {
  copyRows3d,
  gruBackwardStep,
  gruForwardStep,
  gruResetBeforeBackwardGates,
  gruResetBeforeBackwardOutput,
  gruResetBeforeGates,
  gruResetBeforeOutput,
  lstmBackwardStep,
  lstmForwardStep,
  scatterAddRows,
} from '../../packages/wasmgrad/src/runtime/kernels/rnn.js';
import type { Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { nanBuf, numericGrad, put, randArray } from '../shared/buffers.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** f64 LSTM step: gates (i, f, g, o), c, h. */
function lstmRef(b: number, u: number, z: ArrayLike<number>, cp: ArrayLike<number>) {
  const gates = new Float64Array(b * 4 * u);
  const c = new Float64Array(b * u);
  const h = new Float64Array(b * u);
  for (let r = 0; r < b; r++)
    for (let j = 0; j < u; j++) {
      const zz = (k: number) => z[r * 4 * u + k * u + j] as number;
      const [i, f, g, o] = [sig(zz(0)), sig(zz(1)), Math.tanh(zz(2)), sig(zz(3))];
      const cn = f * (cp[r * u + j] as number) + i * g;
      [i, f, g, o].forEach((v, k) => {
        gates[r * 4 * u + k * u + j] = v;
      });
      c[r * u + j] = cn;
      h[r * u + j] = o * Math.tanh(cn);
    }
  return { gates, c, h };
}

/** f64 GRU (reset_after) step: gates (z, r, ĥ), h. */
function gruRef(
  b: number,
  u: number,
  x: ArrayLike<number>,
  rec: ArrayLike<number>,
  brec: ArrayLike<number>,
  hp: ArrayLike<number>,
) {
  const h = new Float64Array(b * u);
  for (let r = 0; r < b; r++)
    for (let j = 0; j < u; j++) {
      const xx = (k: number) => x[r * 3 * u + k * u + j] as number;
      const rr = (k: number) => (rec[r * 3 * u + k * u + j] as number) + (brec[k * u + j] as number);
      const z = sig(xx(0) + rr(0));
      const g = sig(xx(1) + rr(1));
      const hh = Math.tanh(xx(2) + g * rr(2));
      h[r * u + j] = z * (hp[r * u + j] as number) + (1 - z) * hh;
    }
  return h;
}

/** f64 GRU (resetAfter false) step: h from x-projections, h_prev·U_{z,r} (`rzr`, [b, 2u]), h_prev, U_h. */
function gruResetBeforeRef(
  b: number,
  u: number,
  x: ArrayLike<number>,
  rzr: ArrayLike<number>,
  hp: ArrayLike<number>,
  uh: ArrayLike<number>,
) {
  const h = new Float64Array(b * u);
  for (let r = 0; r < b; r++) {
    const rs = Array.from({ length: u }, (_, q) =>
      sig((x[r * 3 * u + u + q] as number) + (rzr[r * 2 * u + u + q] as number)),
    );
    for (let j = 0; j < u; j++) {
      const z = sig((x[r * 3 * u + j] as number) + (rzr[r * 2 * u + j] as number));
      let a = x[r * 3 * u + 2 * u + j] as number;
      for (let q = 0; q < u; q++) a += (rs[q] as number) * (hp[r * u + q] as number) * (uh[q * u + j] as number);
      h[r * u + j] = z * (hp[r * u + j] as number) + (1 - z) * Math.tanh(a);
    }
  }
  return h;
}

/**
 * The two-kernel GRU (resetAfter false) step with its inner products done in f64 here:
 * returns h, the gate gradients over x, and dh_prev (added to `dhp0`).
 */
function gruResetBeforeRun(
  rt: Runtime,
  b: number,
  u: number,
  x0: number[],
  rzr: number[],
  hp: number[],
  uh: number[],
  dh: number[],
  dhp0: number[],
) {
  const rec0 = new Array(b * 3 * u).fill(Number.NaN);
  for (let r = 0; r < b; r++) for (let k = 0; k < 2 * u; k++) rec0[r * 3 * u + k] = rzr[r * 2 * u + k];
  const [x, rec, hpP, h] = [put(rt, x0), put(rt, rec0), put(rt, hp), nanBuf(rt, b * u)];
  gruResetBeforeGates(rt, b, u, x, rec, hpP);
  const xv = rt.read(x, b * 3 * u);
  const rv = rt.read(rec, b * 3 * u);
  for (let r = 0; r < b; r++)
    for (let j = 0; j < u; j++) {
      let a = xv[r * 3 * u + 2 * u + j] as number;
      for (let q = 0; q < u; q++) a += (rv[r * 3 * u + 2 * u + q] as number) * (uh[q * u + j] as number);
      xv[r * 3 * u + 2 * u + j] = a;
    }
  rt.write(x, xv);
  gruResetBeforeOutput(rt, b, u, x, hpP, h);
  const hOut = Array.from(rt.read(h, b * u));
  const dhpP = put(rt, dhp0);
  gruResetBeforeBackwardOutput(rt, b, u, x, hpP, put(rt, dh), dhpP);
  const g = rt.read(x, b * 3 * u);
  const drh = new Array(b * u).fill(0);
  for (let r = 0; r < b; r++)
    for (let q = 0; q < u; q++)
      for (let j = 0; j < u; j++) drh[r * u + q] += (g[r * 3 * u + 2 * u + j] as number) * (uh[q * u + j] as number);
  gruResetBeforeBackwardGates(rt, b, u, x, hpP, put(rt, drh), dhpP);
  return { h: hOut, dx: Array.from(rt.read(x, b * 3 * u)), dhp: Array.from(rt.read(dhpP, b * u)) };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

const read = (rt: Runtime, p: number, n: number) => Float64Array.from(rt.read(p, n));

const TOL = { atol: 2e-6, rtol: 2e-6 };
const GTOL = { atol: 5e-6, rtol: 1e-4 };

async function suite(simd: boolean) {
  const rt = await wg.createRuntime({ simd });
  const results: number[][] = [];
  for (const b of [1, 3]) {
    for (const u of [1, 3, 4, 5, 8, 9, 17]) {
      const rand = seededRandom(b * 100 + u);
      // LSTM forward and backward.
      const z0 = randArray(rand, b * 4 * u, -3, 3);
      const cp = randArray(rand, b * u, -2, 2);
      const dh = randArray(rand, b * u);
      const dc0 = randArray(rand, b * u);
      const want = lstmRef(b, u, z0, cp);
      const [z, cpP, c, h] = [put(rt, z0), put(rt, cp), nanBuf(rt, b * u), nanBuf(rt, b * u)];
      lstmForwardStep(rt, b, u, z, cpP, c, h);
      assertClose(read(rt, z, b * 4 * u), want.gates, TOL, `lstm gates b${b} u${u}`);
      assertClose(read(rt, c, b * u), want.c, TOL, `lstm c b${b} u${u}`);
      assertClose(read(rt, h, b * u), want.h, TOL, `lstm h b${b} u${u}`);
      results.push(Array.from(rt.read(h, b * u)));
      const obj = (zv: ArrayLike<number>, cv: ArrayLike<number>) => {
        const r = lstmRef(b, u, zv, cv);
        return dot(dh, r.h) + dot(dc0, r.c);
      };
      const dcP = put(rt, dc0);
      const dhP = put(rt, dh);
      lstmBackwardStep(rt, b, u, z, cpP, c, dhP, dcP);
      assertClose(
        read(rt, z, b * 4 * u),
        numericGrad((v) => obj(v, cp), z0),
        GTOL,
        `lstm dz b${b} u${u}`,
      );
      assertClose(
        read(rt, dcP, b * u),
        numericGrad((v) => obj(z0, v), cp),
        GTOL,
        `lstm dc b${b} u${u}`,
      );
      results.push(Array.from(rt.read(z, b * 4 * u)));

      // GRU forward and backward.
      const x0 = randArray(rand, b * 3 * u, -2, 2);
      const rec0 = randArray(rand, b * 3 * u, -2, 2);
      const brec = randArray(rand, 3 * u, -0.5, 0.5);
      const hp = randArray(rand, b * u);
      const dhp0 = randArray(rand, b * u);
      const [x, rec, bP, hpP, h2] = [put(rt, x0), put(rt, rec0), put(rt, brec), put(rt, hp), nanBuf(rt, b * u)];
      gruForwardStep(rt, b, u, x, rec, bP, hpP, h2);
      assertClose(read(rt, h2, b * u), gruRef(b, u, x0, rec0, brec, hp), TOL, `gru h b${b} u${u}`);
      const gobj = (xv: ArrayLike<number>, rv: ArrayLike<number>, hv: ArrayLike<number>) =>
        dot(dh, gruRef(b, u, xv, rv, brec, hv));
      const dhpP = put(rt, dhp0);
      gruBackwardStep(rt, b, u, x, rec, hpP, dhP, dhpP);
      assertClose(
        read(rt, x, b * 3 * u),
        numericGrad((v) => gobj(v, rec0, hp), x0),
        GTOL,
        `gru dx b${b} u${u}`,
      );
      assertClose(
        read(rt, rec, b * 3 * u),
        numericGrad((v) => gobj(x0, v, hp), rec0),
        GTOL,
        `gru drec b${b} u${u}`,
      );
      const direct = numericGrad((v) => gobj(x0, rec0, v), hp).map((g, i) => g + (dhp0[i] as number));
      assertClose(read(rt, dhpP, b * u), direct, GTOL, `gru dh_prev b${b} u${u}`);
      results.push(Array.from(rt.read(x, b * 3 * u)));
      // resetAfter false: the split step around the (r·h_prev)·U_h product.
      const rzr = randArray(rand, b * 2 * u, -2, 2);
      const uh = randArray(rand, u * u, -0.7, 0.7);
      const rb = gruResetBeforeRun(rt, b, u, x0, rzr, hp, uh, dh, dhp0);
      assertClose(rb.h, gruResetBeforeRef(b, u, x0, rzr, hp, uh), TOL, `gru reset-before h b${b} u${u}`);
      const rbObj = (xv: ArrayLike<number>, hv: ArrayLike<number>) => dot(dh, gruResetBeforeRef(b, u, xv, rzr, hv, uh));
      assertClose(
        rb.dx,
        numericGrad((v) => rbObj(v, hp), x0),
        GTOL,
        `gru reset-before dx b${b} u${u}`,
      );
      const rbDirect = numericGrad((v) => rbObj(x0, v), hp).map((g, i) => g + (dhp0[i] as number));
      assertClose(rb.dhp, rbDirect, GTOL, `gru reset-before dh_prev b${b} u${u}`);
      results.push(rb.h, rb.dx);
      // No recurrent bias: the same as a zero bias.
      const [x3, rec3, h3] = [put(rt, x0), put(rt, rec0), nanBuf(rt, b * u)];
      gruForwardStep(rt, b, u, x3, rec3, null, hpP, h3);
      assertClose(read(rt, h3, b * u), gruRef(b, u, x0, rec0, new Float64Array(3 * u), hp), TOL, 'gru no bias');
    }
  }
  return { rt, results };
}

describe('rnn kernels', () => {
  it('LSTM/GRU steps match f64 references and finite differences in both builds, which agree', async () => {
    const a = await suite(true);
    const b = await suite(false);
    expect(a.results.length).toBe(b.results.length);
    a.results.forEach((r, i) => {
      assertClose(r, b.results[i] as number[], { atol: 1e-6, rtol: 1e-5 }, `simd vs scalar ${i}`);
    });
  });

  it('copyRows3d transposes [b, t, f] to [t, b, f] and reverses time; scatterAddRows sums duplicates', async () => {
    for (const simd of [true, false]) {
      const rt = await wg.createRuntime({ simd });
      for (const f of [1, 3, 4, 6]) {
        const [B, T] = [3, 5];
        const src = Array.from({ length: B * T * f }, (_, i) => i);
        const s = put(rt, src);
        const d = nanBuf(rt, B * T * f);
        // Reversed time: dst[t, b] = src[b, T − 1 − t].
        copyRows3d(rt, B, T, f, { ptr: s + 4 * (T - 1) * f, s0: T * f, s1: -f }, { ptr: d, s0: f, s1: B * f });
        const got = rt.read(d, B * T * f);
        for (let b = 0; b < B; b++)
          for (let t = 0; t < T; t++)
            for (let k = 0; k < f; k++) expect(got[(t * B + b) * f + k]).toBe(src[(b * T + (T - 1 - t)) * f + k]);
        const idx = [2, 0, 2, 4, 2];
        const iP = rt.allocF32(idx.length, 'test');
        new Uint32Array(rt.memory.buffer, iP, idx.length).set(idx);
        const rows = randArray(seededRandom(f), idx.length * f);
        const table = new Array(5 * f).fill(0.5);
        const dst = put(rt, table);
        scatterAddRows(rt, idx.length, iP, f, put(rt, rows), dst, 5);
        const want = Float64Array.from(table);
        idx.forEach((i, r) => {
          for (let k = 0; k < f; k++) want[i * f + k] = (want[i * f + k] as number) + (rows[r * f + k] as number);
        });
        assertClose(rt.read(dst, 5 * f), want, { atol: 1e-6, rtol: 1e-6 }, `scatter f${f}`);
        // An index outside the table is refused before anything is written.
        new Uint32Array(rt.memory.buffer, iP, 1)[0] = 5;
        expect(() => scatterAddRows(rt, idx.length, iP, f, put(rt, rows), dst, 5)).toThrow(wg.ValueError);
        assertClose(rt.read(dst, 5 * f), want, { atol: 1e-6, rtol: 1e-6 }, 'unchanged after the error');
      }
    }
  });

  it('bad sizes, spans outside the heap and overlapping outputs are typed errors', async () => {
    const rt = await wg.createRuntime({ simd: true });
    const z = put(rt, new Array(16).fill(0));
    const c = put(rt, new Array(4).fill(0));
    const h = put(rt, new Array(4).fill(0));
    expect(() => lstmForwardStep(rt, -1, 4, z, c, c, h)).toThrow(wg.ValueError);
    expect(() => lstmForwardStep(rt, 1, 1.5, z, c, c, h)).toThrow(wg.ValueError);
    expect(() => lstmForwardStep(rt, 1, 4, z, c, nanBuf(rt, 4), h, 'relu' as never)).toThrow(/gate activation/);
    // z holds 16 values: batch 2 needs 32.
    expect(() => lstmForwardStep(rt, 2, 4, z, c, nanBuf(rt, 8), nanBuf(rt, 8))).toThrow(/outside the heap|overlaps/);
    expect(() => lstmForwardStep(rt, 1, 4, z, c, z, h)).toThrow(/overlaps/);
    expect(() => lstmBackwardStep(rt, 1, 4, z, c, c, h, h)).toThrow(/overlaps/);
    expect(() => gruForwardStep(rt, 1, 4, z, z, null, c, h)).toThrow(/overlaps/);
    expect(() => gruBackwardStep(rt, 1, 1, z, z + 16, c, h, h)).toThrow(/overlaps/);
    expect(() => copyRows3d(rt, 2, 2, 2, { ptr: z, s0: 4, s1: 2 }, { ptr: z + 8, s0: 4, s1: 2 })).toThrow(/overlaps/);
    expect(() =>
      copyRows3d(rt, 2, 2, 2, { ptr: rt.heapBase, s0: 4, s1: -2 }, { ptr: nanBuf(rt, 8), s0: 4, s1: 2 }),
    ).toThrow(/outside the heap/);
    expect(() => copyRows3d(rt, 2, 2, 2, { ptr: z, s0: 0.5, s1: 2 }, { ptr: c, s0: 4, s1: 2 })).toThrow(wg.ValueError);
  });
});
