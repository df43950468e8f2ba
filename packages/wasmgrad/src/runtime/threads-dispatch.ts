/**
 * Multi-threaded forms of the large kernels, installed over the raw exports of a shared-memory
 * runtime. Each call is split by OUTPUT: every output element is computed by exactly one thread,
 * by the same code and in the same summation order as a single-threaded call, so results are
 * bitwise identical for any thread count.
 *
 * - gemm / gemm_bias_act: C split into row bands (at multiples of the 4-row register tile) when
 *   m ≥ n, else into column bands (multiples of the 8-column tile); the blocked gemm's per-element
 *   arithmetic depends only on k, never on m, n or where a band starts.
 * - gemm_batched: items split between threads (one item: as gemm).
 * - conv2d forward: images split between threads (each output pixel depends on its image only).
 * - conv2d input gradient: images split, for the pixel-major column layout (≥ 4 input channels or
 *   1×1) where col2im adds each input cell's terms in pixel order whatever the block boundaries.
 *
 * The filter gradient is a sum over the whole batch and stays on one thread.
 * @module
 */
import type { RawKernels } from './kernels/signatures.js';
import { SLOT_F64, type ThreadPool } from './threads.js';

/** The exports the helpers call, by slot index. */
export const THREADED_KERNELS = [
  'f32_gemm',
  'f32_gemm_bias_act',
  'f32_gemm_batched',
  'f32_conv2d_forward',
  'f32_conv2d_backward_input',
] as const;
const FN_GEMM = 0;
const FN_GEMM_BIAS_ACT = 1;
const FN_GEMM_BATCHED = 2;
const FN_CONV_FORWARD = 3;
const FN_CONV_BACKWARD_INPUT = 4;

/**
 * Tuning: a part must carry at least `minPartMacs` multiply-adds, or waking a helper costs more
 * than it saves (measured with bench/kernels.mjs; see the threads report in the commit log).
 */
export const threadTuning = { minPartMacs: 1 << 18 };

const MR = 4;
const NR = 8;

type Fn = (...args: number[]) => unknown;

/** Start of part `i` of `parts` over `len` items in units of `unit` (the last part ends at len). */
function bound(i: number, parts: number, len: number, unit: number): number {
  const units = Math.ceil(len / unit);
  return Math.min(len, Math.round((i * units) / parts) * unit);
}

/** Parts worth running for `macs` multiply-adds over `units` splittable units. */
function partsFor(pool: ThreadPool, macs: number, units: number): number {
  return Math.max(1, Math.min(pool.helpers + 1, units, Math.floor(macs / threadTuning.minPartMacs)));
}

function write(slot: Float64Array, fn: number, args: ArrayLike<number>): void {
  slot[0] = fn;
  slot[1] = args.length;
  for (let i = 0; i < args.length && i < SLOT_F64 - 2; i++) slot[2 + i] = args[i] as number;
}

/** Marks helpers from `from` on as idle for this job. */
function idle(pool: ThreadPool, from: number): void {
  for (let i = from; i < pool.helpers; i++) pool.slot(i)[0] = -1;
}

/**
 * Replaces the threaded kernels in `kernels` with dispatchers that consult `poolOf()` at each
 * call (undefined, a pool that cannot block, or a small call: the raw kernel runs).
 */
export function installThreaded(target: RawKernels, raw: RawKernels, poolOf: () => ThreadPool | undefined): void {
  const kernels = target as { -readonly [K in keyof RawKernels]: RawKernels[K] };
  const usable = (): ThreadPool | undefined => {
    const p = poolOf();
    return p?.open && p.canBlock && p.helpers > 0 ? p : undefined;
  };
  const args: number[] = [];
  const gemmRaw = raw.f32_gemm as unknown as Fn;
  const biasRaw = raw.f32_gemm_bias_act as unknown as Fn;

  // Splits one C ← f(A·B) call. `lead` = argument indices of (m, n, k, a, rsa, csa, b, rsb, csb,
  // c, rsc, csc, work, bias or −1) in the kernel's argument list.
  const splitGemm = (fn: number, rawFn: Fn, call: number[], bias: number, op: string): void => {
    const pool = usable();
    const [m, n, k] = call as [number, number, number];
    const parts = pool ? partsFor(pool, m * n * Math.max(k, 1), m >= n ? Math.ceil(m / MR) : Math.ceil(n / NR)) : 1;
    if (!pool || parts < 2) {
      rawFn(...call);
      return;
    }
    const byRows = m >= n;
    const [ai, rsaI, csaI, bi, rsbI, csbI, ci, rscI, cscI, wi] =
      fn === FN_GEMM ? [4, 5, 6, 7, 8, 9, 11, 12, 13, 14] : [3, 4, 5, 6, 7, 8, 10, 11, 12, 14];
    const len = byRows ? m : n;
    const unit = byRows ? MR : NR;
    const at = (part: number, helperWork: number, out: number[]) => {
      const lo = bound(part, parts, len, unit);
      const hi = bound(part + 1, parts, len, unit);
      out.length = 0;
      for (const v of call) out.push(v);
      if (byRows) {
        out[0] = hi - lo;
        out[ai] = (call[ai] as number) + 4 * lo * (call[rsaI] as number);
        out[ci] = (call[ci] as number) + 4 * lo * (call[rscI] as number);
      } else {
        out[1] = hi - lo;
        out[bi] = (call[bi] as number) + 4 * lo * (call[csbI] as number);
        out[ci] = (call[ci] as number) + 4 * lo * (call[cscI] as number);
        if (bias >= 0 && call[bias] !== 0) out[bias] = (call[bias] as number) + 4 * lo;
      }
      if (helperWork >= 0) out[wi] = helperWork;
      void csaI;
      void rsbI;
    };
    for (let i = 1; i < parts; i++) {
      at(i, pool.gemmWorkspaces[i - 1] as number, args);
      write(pool.slot(i - 1), fn, args);
    }
    idle(pool, parts - 1);
    const own: number[] = [];
    at(0, -1, own);
    pool.run(() => rawFn(...own), op);
  };

  kernels.f32_gemm = ((...call: number[]) => splitGemm(FN_GEMM, gemmRaw, call, -1, 'gemm')) as RawKernels['f32_gemm'];
  kernels.f32_gemm_bias_act = ((...call: number[]) =>
    splitGemm(FN_GEMM_BIAS_ACT, biasRaw, call, 9, 'gemmBiasAct')) as RawKernels['f32_gemm_bias_act'];

  const batchedRaw = raw.f32_gemm_batched as unknown as Fn;
  kernels.f32_gemm_batched = ((...call: number[]) => {
    const pool = usable();
    const [batch, m, n, k] = call as [number, number, number, number];
    if (pool && batch === 1) {
      // One item: split it as a plain gemm (same arithmetic).
      const [, , , , alpha, a, rsa, csa, , b, rsb, csb, , beta, c, rsc, csc, , work] = call as number[];
      splitGemm(
        FN_GEMM,
        gemmRaw,
        [m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc, work] as number[],
        -1,
        'gemmBatched',
      );
      return;
    }
    const parts = pool ? partsFor(pool, batch * m * n * Math.max(k, 1), batch) : 1;
    if (!pool || parts < 2) {
      batchedRaw(...call);
      return;
    }
    const at = (part: number, helperWork: number, out: number[]) => {
      const lo = bound(part, parts, batch, 1);
      const hi = bound(part + 1, parts, batch, 1);
      out.length = 0;
      for (const v of call) out.push(v);
      out[0] = hi - lo;
      out[5] = (call[5] as number) + 4 * lo * (call[8] as number);
      out[9] = (call[9] as number) + 4 * lo * (call[12] as number);
      out[14] = (call[14] as number) + 4 * lo * (call[17] as number);
      if (helperWork >= 0) out[18] = helperWork;
    };
    for (let i = 1; i < parts; i++) {
      at(i, pool.gemmWorkspaces[i - 1] as number, args);
      write(pool.slot(i - 1), FN_GEMM_BATCHED, args);
    }
    idle(pool, parts - 1);
    const own: number[] = [];
    at(0, -1, own);
    pool.run(() => batchedRaw(...own), 'gemmBatched');
  }) as RawKernels['f32_gemm_batched'];

  const wsLen = raw.f32_conv2d_workspace_len as unknown as (...g: number[]) => number;
  // Splits a conv call over images. `inIdx`/`outIdx` = argument indices of the per-image input
  // and output pointers (`inPer`/`outPer` = their f32 values per image), `workIdx` the workspace.
  const splitConv = (
    fn: number,
    rawFn: Fn,
    call: number[],
    ptrs: [index: number, perImage: number][],
    workIdx: number,
    op: string,
  ): boolean => {
    const pool = usable();
    if (!pool) return false;
    const [batch, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr] = call as number[] as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const oh = Math.floor((h + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1;
    const ow = Math.floor((w + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
    if (!(oh > 0 && ow > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0 && kh > 0 && kw > 0)) return false;
    const parts = partsFor(pool, batch * oh * ow * oc * kh * kw * c, batch);
    if (parts < 2) return false;
    const geometry = (images: number) => [images, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr];
    const lo0 = bound(1, parts, batch, 1);
    // The caller's workspace was sized for the whole batch; part 0 must fit in it.
    if (wsLen(...geometry(lo0)) > wsLen(...geometry(batch))) return false;
    const at = (part: number, out: number[]) => {
      const lo = bound(part, parts, batch, 1);
      const hi = bound(part + 1, parts, batch, 1);
      out.length = 0;
      for (const v of call) out.push(v);
      out[0] = hi - lo;
      for (const [index, per] of ptrs) out[index] = (call[index] as number) + 4 * lo * per;
    };
    const outs: number[][] = [];
    for (let i = 1; i < parts; i++) {
      const out: number[] = [];
      at(i, out);
      // May grow the memory: pointers are addresses and stay valid.
      out[workIdx] = pool.scratchFor(i - 1, 4 * Math.max(1, wsLen(...geometry(out[0] as number))));
      outs.push(out);
    }
    for (let i = 1; i < parts; i++) write(pool.slot(i - 1), fn, outs[i - 1] as number[]);
    idle(pool, parts - 1);
    const own: number[] = [];
    at(0, own);
    pool.run(() => rawFn(...own), op);
    return true;
  };

  const forwardRaw = raw.f32_conv2d_forward as unknown as Fn;
  kernels.f32_conv2d_forward = ((...call: number[]) => {
    const [, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr] = call as number[] as number[];
    const oh =
      Math.floor(
        ((h as number) + (pt as number) + (pb as number) - (((kh as number) - 1) * (dh as number) + 1)) /
          (sh as number),
      ) + 1;
    const ow =
      Math.floor(
        ((w as number) + (pl as number) + (pr as number) - (((kw as number) - 1) * (dw as number) + 1)) /
          (sw as number),
      ) + 1;
    const ptrs: [number, number][] = [
      [15, (h as number) * (w as number) * (c as number)],
      [18, oh * ow * (oc as number)],
    ];
    if (!splitConv(FN_CONV_FORWARD, forwardRaw, call, ptrs, 20, 'conv2d')) forwardRaw(...call);
  }) as RawKernels['f32_conv2d_forward'];

  const backInputRaw = raw.f32_conv2d_backward_input as unknown as Fn;
  kernels.f32_conv2d_backward_input = ((...call: number[]) => {
    const [, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr] = call as number[] as number[];
    const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && pb === 0 && pr === 0;
    const oh =
      Math.floor(
        ((h as number) + (pt as number) + (pb as number) - (((kh as number) - 1) * (dh as number) + 1)) /
          (sh as number),
      ) + 1;
    const ow =
      Math.floor(
        ((w as number) + (pl as number) + (pr as number) - (((kw as number) - 1) * (dw as number) + 1)) /
          (sw as number),
      ) + 1;
    const ptrs: [number, number][] = [
      [15, oh * ow * (oc as number)],
      [17, (h as number) * (w as number) * (c as number)],
    ];
    const splittable = pointwise || (c as number) >= 4;
    if (!splittable || !splitConv(FN_CONV_BACKWARD_INPUT, backInputRaw, call, ptrs, 18, 'conv2dBackwardInput')) {
      backInputRaw(...call);
    }
  }) as RawKernels['f32_conv2d_backward_input'];
}
