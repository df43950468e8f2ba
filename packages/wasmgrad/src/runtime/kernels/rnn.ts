import { ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkBytes } from './check.js';
import { checkCounts, checkValues, optionalValues } from './reduce.js';

export const RNN_SIGNATURES = {
  f32_lstm_forward_step: ['batch', 'units', 'z', 'cPrev', 'c', 'h', 'gateAct'],
  f32_lstm_backward_step: ['batch', 'units', 'gates', 'cPrev', 'c', 'dh', 'dc', 'gateAct'],
  f32_gru_forward_step: ['batch', 'units', 'x', 'rec', 'brec', 'hPrev', 'h', 'gateAct'],
  f32_gru_backward_step: ['batch', 'units', 'gates', 'rec', 'hPrev', 'dh', 'dhPrev', 'gateAct'],
  f32_gru_reset_before_gates: ['batch', 'units', 'x', 'rec', 'hPrev', 'gateAct'],
  f32_gru_reset_before_output: ['batch', 'units', 'x', 'hPrev', 'h'],
  f32_gru_reset_before_backward_output: ['batch', 'units', 'gates', 'hPrev', 'dh', 'dhPrev', 'gateAct'],
  f32_gru_reset_before_backward_gates: ['batch', 'units', 'gates', 'hPrev', 'drh', 'dhPrev', 'gateAct'],
  f32_copy_rows_3d: ['n0', 'n1', 'len', 'src', 'ss0', 'ss1', 'dst', 'ds0', 'ds1'],
  f32_scatter_add_rows: ['count', 'indices', 'rowLen', 'src', 'dst'],
} as const;

const I32_MAX = 0x7fff_ffff;

/**
 * Gate activations of the fused LSTM/GRU kernels (`gate_act` codes in crates/kernels/src/rnn.rs):
 * sigmoid (Keras' default) or the hard sigmoid clip(0.2·x + 0.5, 0, 1) (tfjs-layers' default).
 */
export const GATE_ACTIVATIONS = { sigmoid: 0, hardSigmoid: 1 } as const;
export type GateActivation = keyof typeof GATE_ACTIVATIONS;

function gateCode(op: string, gate: GateActivation): number {
  if (!Object.hasOwn(GATE_ACTIVATIONS, gate)) {
    throw new ValueError(op, `gate activation must be one of ${Object.keys(GATE_ACTIVATIONS).join(', ')}, got ${gate}`);
  }
  return GATE_ACTIVATIONS[gate];
}

type Buf = readonly [name: string, ptr: number, count: number];

/** Sizes that the kernel's 32-bit usize receives unchanged. */
function checkSizes(op: string, sizes: Record<string, number>): void {
  checkCounts(op, sizes);
  for (const [name, v] of Object.entries(sizes)) {
    if (v > I32_MAX) throw new ValueError(op, `${name} must be below 2^31, got ${v}`);
  }
}

/** Throws unless the byte spans of `a` and each of `others` are disjoint (empty spans never overlap). */
function checkDisjoint(op: string, a: Buf, others: readonly Buf[]): void {
  const [an, ap, ac] = a;
  for (const [bn, bp, bc] of others) {
    if (ac === 0 || bc === 0 || bp === 0) continue;
    if (ap < bp + 4 * bc && bp < ap + 4 * ac) {
      throw new ValueError(op, `${an} [${ap}, ${ap + 4 * ac}) overlaps ${bn} [${bp}, ${bp + 4 * bc})`);
    }
  }
}

/**
 * LSTM cell forward for one timestep over contiguous [batch, 4·units] pre-activations `z`
 * (gate order i, f, c, o; replaced in place by the activations), the previous cell state and the
 * new cell and hidden states ([batch, units] each).
 */
export function lstmForwardStep(
  rt: Runtime,
  batch: number,
  units: number,
  z: number,
  cPrev: number,
  c: number,
  h: number,
  gate: GateActivation = 'sigmoid',
  op = 'lstmForwardStep',
): void {
  checkSizes(op, { batch, units, gates: 4 * batch * units });
  const n = batch * units;
  const bufs: Buf[] = [
    ['z', z, 4 * n],
    ['cPrev', cPrev, n],
    ['c', c, n],
    ['h', h, n],
  ];
  for (const [name, p, count] of bufs) checkValues(rt, op, name, p, count);
  checkDisjoint(op, bufs[2] as Buf, [bufs[0] as Buf, bufs[1] as Buf, bufs[3] as Buf]);
  checkDisjoint(op, bufs[3] as Buf, [bufs[0] as Buf, bufs[1] as Buf]);
  rt.kernels.f32_lstm_forward_step(batch, units, z, cPrev, c, h, gateCode(op, gate));
}

/**
 * LSTM cell backward for one timestep: replaces the activations `gates` by the pre-activation
 * gradients and `dc` (gradient reaching c_t from later steps) by the gradient of c_{t−1}, given the
 * gradient `dh` reaching h_t.
 */
export function lstmBackwardStep(
  rt: Runtime,
  batch: number,
  units: number,
  gates: number,
  cPrev: number,
  c: number,
  dh: number,
  dc: number,
  gate: GateActivation = 'sigmoid',
  op = 'lstmBackwardStep',
): void {
  checkSizes(op, { batch, units, gates: 4 * batch * units });
  const n = batch * units;
  const bufs: Buf[] = [
    ['gates', gates, 4 * n],
    ['cPrev', cPrev, n],
    ['c', c, n],
    ['dh', dh, n],
    ['dc', dc, n],
  ];
  for (const [name, p, count] of bufs) checkValues(rt, op, name, p, count);
  checkDisjoint(op, bufs[4] as Buf, bufs.slice(0, 4));
  rt.kernels.f32_lstm_backward_step(batch, units, gates, cPrev, c, dh, dc, gateCode(op, gate));
}

/**
 * GRU cell forward (Keras reset_after) for one timestep: `x` holds x·W + b_in and `rec` holds
 * h_prev·U (both [batch, 3·units], gate order z, r, h); `brec` (3·units) is the recurrent bias or
 * null. Replaces x by (z, r, ĥ) and the h block of rec by rec_h + b_rec; writes h.
 */
export function gruForwardStep(
  rt: Runtime,
  batch: number,
  units: number,
  x: number,
  rec: number,
  brec: number | null,
  hPrev: number,
  h: number,
  gate: GateActivation = 'sigmoid',
  op = 'gruForwardStep',
): void {
  checkSizes(op, { batch, units, gates: 3 * batch * units });
  const n = batch * units;
  const bufs: Buf[] = [
    ['x', x, 3 * n],
    ['rec', rec, 3 * n],
    ['hPrev', hPrev, n],
    ['h', h, n],
  ];
  for (const [name, p, count] of bufs) checkValues(rt, op, name, p, count);
  const b = optionalValues(rt, op, 'brec', brec, 3 * units);
  checkDisjoint(op, bufs[0] as Buf, [bufs[1] as Buf]);
  checkDisjoint(op, bufs[3] as Buf, [...bufs.slice(0, 3), ['brec', b, 3 * units]]);
  rt.kernels.f32_gru_forward_step(batch, units, x, rec, b, hPrev, h, gateCode(op, gate));
}

/**
 * GRU cell backward (reset_after) for one timestep: replaces `gates` by the input-side and `rec`
 * by the recurrent-side pre-activation gradients, and adds the direct part dh·z of the h_{t−1}
 * gradient into `dhPrev` (null: skipped).
 */
export function gruBackwardStep(
  rt: Runtime,
  batch: number,
  units: number,
  gates: number,
  rec: number,
  hPrev: number,
  dh: number,
  dhPrev: number | null,
  gate: GateActivation = 'sigmoid',
  op = 'gruBackwardStep',
): void {
  checkSizes(op, { batch, units, gates: 3 * batch * units });
  const n = batch * units;
  const bufs: Buf[] = [
    ['gates', gates, 3 * n],
    ['rec', rec, 3 * n],
    ['hPrev', hPrev, n],
    ['dh', dh, n],
  ];
  for (const [name, p, count] of bufs) checkValues(rt, op, name, p, count);
  const d = optionalValues(rt, op, 'dhPrev', dhPrev, n);
  checkDisjoint(op, bufs[0] as Buf, [bufs[1] as Buf]);
  checkDisjoint(op, ['dhPrev', d, n], bufs);
  rt.kernels.f32_gru_backward_step(batch, units, gates, rec, hPrev, dh, d, gateCode(op, gate));
}

/**
 * GRU forward (resetAfter false), first half of a step: z and r from `x` (x·W + b) and the z, r
 * blocks of `rec` (h_prev·U_z, h_prev·U_r), written over x's z and r blocks; r·h_prev into the h
 * block of rec (for the caller's (r·h_prev)·U_h gemm into x's h block).
 */
export function gruResetBeforeGates(
  rt: Runtime,
  batch: number,
  units: number,
  x: number,
  rec: number,
  hPrev: number,
  gate: GateActivation = 'sigmoid',
  op = 'gruResetBeforeGates',
): void {
  checkSizes(op, { batch, units, gates: 3 * batch * units });
  const n = batch * units;
  const bufs: Buf[] = [
    ['x', x, 3 * n],
    ['rec', rec, 3 * n],
    ['hPrev', hPrev, n],
  ];
  for (const [name, p, count] of bufs) checkValues(rt, op, name, p, count);
  checkDisjoint(op, bufs[1] as Buf, [bufs[0] as Buf, bufs[2] as Buf]);
  rt.kernels.f32_gru_reset_before_gates(batch, units, x, rec, hPrev, gateCode(op, gate));
}

/** GRU forward (resetAfter false), second half: ĥ = tanh(x_h) over x's h block and h. */
export function gruResetBeforeOutput(
  rt: Runtime,
  batch: number,
  units: number,
  x: number,
  hPrev: number,
  h: number,
  op = 'gruResetBeforeOutput',
): void {
  checkSizes(op, { batch, units, gates: 3 * batch * units });
  const n = batch * units;
  const bufs: Buf[] = [
    ['x', x, 3 * n],
    ['hPrev', hPrev, n],
    ['h', h, n],
  ];
  for (const [name, p, count] of bufs) checkValues(rt, op, name, p, count);
  checkDisjoint(op, bufs[2] as Buf, [bufs[0] as Buf, bufs[1] as Buf]);
  rt.kernels.f32_gru_reset_before_output(batch, units, x, hPrev, h);
}

/**
 * GRU backward (resetAfter false), first half: da_h and da_z over gates' h and z blocks; adds the
 * direct part dh·z of the h_{t−1} gradient into `dhPrev` (null: skipped).
 */
export function gruResetBeforeBackwardOutput(
  rt: Runtime,
  batch: number,
  units: number,
  gates: number,
  hPrev: number,
  dh: number,
  dhPrev: number | null,
  gate: GateActivation = 'sigmoid',
  op = 'gruResetBeforeBackwardOutput',
): void {
  checkSizes(op, { batch, units, gates: 3 * batch * units });
  const n = batch * units;
  const bufs: Buf[] = [
    ['gates', gates, 3 * n],
    ['hPrev', hPrev, n],
    ['dh', dh, n],
  ];
  for (const [name, p, count] of bufs) checkValues(rt, op, name, p, count);
  const d = optionalValues(rt, op, 'dhPrev', dhPrev, n);
  checkDisjoint(op, ['dhPrev', d, n], bufs);
  rt.kernels.f32_gru_reset_before_backward_output(batch, units, gates, hPrev, dh, d, gateCode(op, gate));
}

/**
 * GRU backward (resetAfter false), second half: from drh = ∂L/∂(r·h_prev), da_r over gates' r block
 * and drh·r added into `dhPrev` (null: skipped).
 */
export function gruResetBeforeBackwardGates(
  rt: Runtime,
  batch: number,
  units: number,
  gates: number,
  hPrev: number,
  drh: number,
  dhPrev: number | null,
  gate: GateActivation = 'sigmoid',
  op = 'gruResetBeforeBackwardGates',
): void {
  checkSizes(op, { batch, units, gates: 3 * batch * units });
  const n = batch * units;
  const bufs: Buf[] = [
    ['gates', gates, 3 * n],
    ['hPrev', hPrev, n],
    ['drh', drh, n],
  ];
  for (const [name, p, count] of bufs) checkValues(rt, op, name, p, count);
  const d = optionalValues(rt, op, 'dhPrev', dhPrev, n);
  checkDisjoint(op, ['dhPrev', d, n], bufs);
  rt.kernels.f32_gru_reset_before_backward_gates(batch, units, gates, hPrev, drh, d, gateCode(op, gate));
}

/** A 3-D strided view of rows: row (i, j) starts at byte `ptr + 4·(i·s0 + j·s1)`. */
export interface Rows3d {
  ptr: number;
  s0: number;
  s1: number;
}

/** Byte extent [lo, hi) of an n0×n1×len strided view. */
function extent(op: string, name: string, v: Rows3d, n0: number, n1: number, len: number): [number, number] {
  for (const s of [v.s0, v.s1]) {
    if (!Number.isSafeInteger(s) || Math.abs(s) > I32_MAX) {
      throw new ValueError(op, `${name} strides must be integers of magnitude below 2^31, got ${v.s0}, ${v.s1}`);
    }
  }
  const lo = Math.min(0, (n0 - 1) * v.s0) + Math.min(0, (n1 - 1) * v.s1);
  const hi = Math.max(0, (n0 - 1) * v.s0) + Math.max(0, (n1 - 1) * v.s1) + len;
  return [v.ptr + 4 * lo, v.ptr + 4 * hi];
}

/**
 * dst row (i, j) ← src row (i, j) for i < n0, j < n1, rows of `len` contiguous values: moves a
 * sequence between [batch, time, ·] and [time, batch, ·] layouts (swap the strides), reversing
 * time with a negative stride. The two views must not overlap.
 */
export function copyRows3d(
  rt: Runtime,
  n0: number,
  n1: number,
  len: number,
  src: Rows3d,
  dst: Rows3d,
  op = 'copyRows3d',
): void {
  checkSizes(op, { n0, n1, len });
  if (n0 === 0 || n1 === 0 || len === 0) return;
  const [sl, sh] = extent(op, 'src', src, n0, n1, len);
  const [dl, dh] = extent(op, 'dst', dst, n0, n1, len);
  checkBytes(rt, op, 'src', sl, sh - sl);
  checkBytes(rt, op, 'dst', dl, dh - dl);
  if (sl < dh && dl < sh) throw new ValueError(op, `src [${sl}, ${sh}) overlaps dst [${dl}, ${dh})`);
  rt.kernels.f32_copy_rows_3d(n0, n1, len, src.ptr, src.s0, src.s1, dst.ptr, dst.s0, dst.s1);
}

/**
 * dst[indices[r]] += src[r] for `count` rows of `rowLen` values (repeated indices accumulate): the
 * embedding gradient. `dstRows` is the number of rows of dst; every index is checked against it
 * (in JS, before the call).
 */
export function scatterAddRows(
  rt: Runtime,
  count: number,
  indices: number,
  rowLen: number,
  src: number,
  dst: number,
  dstRows: number,
  op = 'scatterAddRows',
): void {
  checkSizes(op, { count, rowLen, dstRows });
  checkValues(rt, op, 'indices', indices, count);
  checkValues(rt, op, 'src', src, count * rowLen);
  checkValues(rt, op, 'dst', dst, dstRows * rowLen);
  checkDisjoint(
    op,
    ['dst', dst, dstRows * rowLen],
    [
      ['src', src, count * rowLen],
      ['indices', indices, count],
    ],
  );
  const u32 = rt.u32;
  const first = indices >>> 2;
  for (let r = 0; r < count; r++) {
    const i = u32[first + r] as number;
    if (i >= dstRows) throw new ValueError(op, `index ${i} at ${r} is outside [0, ${dstRows})`);
  }
  rt.kernels.f32_scatter_add_rows(count, indices, rowLen, src, dst);
}
