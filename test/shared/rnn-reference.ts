/**
 * Plain f64 reference implementations of Keras' recurrent layers (SimpleRNN, LSTM with gates
 * i, f, c, o, GRU with reset_after and gates z, r, h) over [batch, time, features] inputs, with
 * the Keras weight layout: kernel [features, k·units], recurrent kernel [units, k·units], bias
 * [k·units] (GRU: [2, 3·units], input bias then recurrent bias).
 */

export type RnnKind = 'simple' | 'lstm' | 'gru';

export interface RnnRefOptions {
  kind: RnnKind;
  units: number;
  batch: number;
  time: number;
  features: number;
  returnSequences?: boolean;
  goBackwards?: boolean;
  /** GRU: reset gate after the recurrent product (default true) or before it (bias [3·units]). */
  resetAfter?: boolean;
  /** LSTM/GRU gate activation (default sigmoid; tfjs' hard sigmoid is clip(0.2·x + 0.5, 0, 1)). */
  gate?: 'sigmoid' | 'hardSigmoid';
  /** SimpleRNN activation (default tanh). */
  activation?: (x: number) => number;
}

/** Outputs of the reference: the layer output, and the final h and c (c is empty except for LSTM). */
export interface RnnRefResult {
  out: Float64Array;
  h: Float64Array;
  c: Float64Array;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const hardSigmoid = (x: number) => Math.min(1, Math.max(0, 0.2 * x + 0.5));

/** Gates per unit of each kind. */
export const GATES: Record<RnnKind, number> = { simple: 1, lstm: 4, gru: 3 };

/** Runs the recurrent layer of `o` in f64; `b` may be null (useBias false). */
export function rnnReference(
  o: RnnRefOptions,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  u: ArrayLike<number>,
  b: ArrayLike<number> | null,
): RnnRefResult {
  const { units: U, batch: B, time: T, features: F } = o;
  const k = GATES[o.kind] * U;
  const act = o.activation ?? Math.tanh;
  const sig = o.gate === 'hardSigmoid' ? hardSigmoid : sigmoid;
  const out = new Float64Array(o.returnSequences ? B * T * U : B * U);
  const hOut = new Float64Array(B * U);
  const cOut = new Float64Array(o.kind === 'lstm' ? B * U : 0);
  const bias = (j: number) => (b ? (b[j] as number) : 0);
  const resetAfter = o.resetAfter ?? true;
  const recBias = (j: number) => (b && o.kind === 'gru' && resetAfter ? (b[k + j] as number) : 0);
  for (let n = 0; n < B; n++) {
    let h = new Float64Array(U);
    let c = new Float64Array(U);
    for (let s = 0; s < T; s++) {
      const t = o.goBackwards ? T - 1 - s : s;
      const xp = new Float64Array(k);
      const hp = new Float64Array(k);
      for (let j = 0; j < k; j++) {
        let a = bias(j);
        for (let f = 0; f < F; f++) a += (x[(n * T + t) * F + f] as number) * (w[f * k + j] as number);
        xp[j] = a;
        let r = recBias(j);
        for (let q = 0; q < U; q++) r += (h[q] as number) * (u[q * k + j] as number);
        hp[j] = r;
      }
      const hn = new Float64Array(U);
      const cn = new Float64Array(U);
      for (let j = 0; j < U; j++) {
        const at = (arr: Float64Array, g: number) => arr[g * U + j] as number;
        if (o.kind === 'simple') hn[j] = act(at(xp, 0) + at(hp, 0));
        else if (o.kind === 'lstm') {
          const i = sig(at(xp, 0) + at(hp, 0));
          const f = sig(at(xp, 1) + at(hp, 1));
          const g = Math.tanh(at(xp, 2) + at(hp, 2));
          const og = sig(at(xp, 3) + at(hp, 3));
          cn[j] = f * (c[j] as number) + i * g;
          hn[j] = og * Math.tanh(cn[j] as number);
        } else if (resetAfter) {
          const z = sig(at(xp, 0) + at(hp, 0));
          const r = sig(at(xp, 1) + at(hp, 1));
          const hh = Math.tanh(at(xp, 2) + r * at(hp, 2));
          hn[j] = z * (h[j] as number) + (1 - z) * hh;
        } else {
          // ĥ = tanh(x·W_h + b_h + (r ⊙ h)·U_h), r over every unit.
          const z = sig(at(xp, 0) + at(hp, 0));
          let a = at(xp, 2);
          for (let q = 0; q < U; q++) {
            const rq = sig((xp[U + q] as number) + (hp[U + q] as number));
            a += rq * (h[q] as number) * (u[q * k + 2 * U + j] as number);
          }
          hn[j] = z * (h[j] as number) + (1 - z) * Math.tanh(a);
        }
      }
      h = hn;
      c = cn;
      if (o.returnSequences) out.set(h, (n * T + s) * U);
    }
    hOut.set(h, n * U);
    if (o.kind === 'lstm') cOut.set(c, n * U);
    if (!o.returnSequences) out.set(h, n * U);
  }
  return { out, h: hOut, c: cOut };
}
