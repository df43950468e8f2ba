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
 * - conv2d forward (also fused with 2×2 max pooling): images split between threads (each output
 *   pixel depends on its image only).
 * - conv2d input gradient: images split, for the pixel-major column layout (≥ 4 input channels or
 *   1×1) where col2im adds each input cell's terms in pixel order whatever the block boundaries.
 *
 * The filter gradient is a sum over the whole batch and stays on one thread.
 * @module
 */
import { type ConvGeometryArgs, convOutSize } from './kernels/conv.js';
import type { RawKernels } from './kernels/signatures.js';
import { type ThreadPool, WORK_GEMM, WORK_SCRATCH } from './threads.js';

/** The exports the helpers call, by slot index. */
export const THREADED_KERNELS = [
  'f32_gemm',
  'f32_gemm_bias_act',
  'f32_gemm_batched',
  'f32_conv2d_forward',
  'f32_conv2d_backward_input',
  'f32_conv2d_forward_maxpool2',
] as const;
const FN_GEMM = 0;
const FN_GEMM_BIAS_ACT = 1;
const FN_GEMM_BATCHED = 2;
const FN_CONV_FORWARD = 3;
const FN_CONV_BACKWARD_INPUT = 4;
const FN_CONV_FORWARD_MAXPOOL2 = 5;

/**
 * Tuning: a part must carry at least `minPartMacs` multiply-adds, or handing it to a helper costs
 * more than it saves. 2^18 is ≈ 12 µs of gemm at 45 GFLOP/s, about ten times the latency of a
 * spinning helper picking a part up; a helper asleep (≈ 20–50 µs to wake) costs nothing extra,
 * since the caller then runs the unclaimed parts itself. Not yet measured on an idle machine
 * (bench/kernels.mjs --threads-only); tests lower it to split small calls.
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

/** The raw kernels by {@link THREADED_KERNELS} index, for the calling thread's share of a job. */
export function threadedFns(raw: RawKernels): ((...args: number[]) => unknown)[] {
  return THREADED_KERNELS.map((name) => raw[name] as unknown as Fn);
}

/**
 * Replaces the threaded kernels in `target` with dispatchers that consult `poolOf()` at each
 * call (undefined, a pool that cannot block, or a small call: the raw kernel runs).
 */
export function installThreaded(target: RawKernels, raw: RawKernels, poolOf: () => ThreadPool | undefined): void {
  const kernels = target as { -readonly [K in keyof RawKernels]: RawKernels[K] };
  const usable = (): ThreadPool | undefined => {
    const p = poolOf();
    return p?.open && p.canBlock && p.helpers > 0 ? p : undefined;
  };
  const part: number[] = [];
  const [gemmRaw, biasRaw, batchedRaw, forwardRaw, backInputRaw, pooledRaw] = threadedFns(raw) as [
    Fn,
    Fn,
    Fn,
    Fn,
    Fn,
    Fn,
  ];

  /** Splits one C ← f(A·B) call of f32_gemm (FN_GEMM) or f32_gemm_bias_act into bands of C. */
  const splitGemm = (fn: number, call: number[], op: string): void => {
    const rawFn = fn === FN_GEMM ? gemmRaw : biasRaw;
    const pool = usable();
    const [m, n, k] = call as [number, number, number];
    const byRows = m >= n;
    const parts = pool ? partsFor(pool, m * n * Math.max(k, 1), byRows ? Math.ceil(m / MR) : Math.ceil(n / NR)) : 1;
    if (!pool || parts < 2) {
      rawFn(...call);
      return;
    }
    // Argument indices of a, rsa, b, csb, c, rsc, csc, work and bias (−1: none).
    const [ai, rsaI, bi, csbI, ci, rscI, cscI, wi, biasI] =
      fn === FN_GEMM ? [4, 5, 7, 9, 11, 12, 13, 14, -1] : [3, 4, 6, 8, 10, 11, 12, 14, 9];
    const len = byRows ? m : n;
    const unit = byRows ? MR : NR;
    for (let i = 0; i < parts; i++) {
      const lo = bound(i, parts, len, unit);
      const hi = bound(i + 1, parts, len, unit);
      part.length = 0;
      for (const v of call) part.push(v);
      if (byRows) {
        part[0] = hi - lo;
        part[ai] = (call[ai] as number) + 4 * lo * (call[rsaI] as number);
        part[ci] = (call[ci] as number) + 4 * lo * (call[rscI] as number);
      } else {
        part[1] = hi - lo;
        part[bi] = (call[bi] as number) + 4 * lo * (call[csbI] as number);
        part[ci] = (call[ci] as number) + 4 * lo * (call[cscI] as number);
        if (biasI >= 0 && call[biasI] !== 0) part[biasI] = (call[biasI] as number) + 4 * lo;
      }
      pool.setPart(i, fn, part, wi, WORK_GEMM);
    }
    pool.run(parts, call[wi] as number, op);
  };

  kernels.f32_gemm = ((...call: number[]) => splitGemm(FN_GEMM, call, 'gemm')) as RawKernels['f32_gemm'];
  kernels.f32_gemm_bias_act = ((...call: number[]) =>
    splitGemm(FN_GEMM_BIAS_ACT, call, 'gemmBiasAct')) as RawKernels['f32_gemm_bias_act'];

  kernels.f32_gemm_batched = ((...call: number[]) => {
    const pool = usable();
    const [batch, m, n, k] = call as [number, number, number, number];
    if (pool && batch === 1) {
      // One item: split it as a plain gemm (same arithmetic).
      const [, , , , alpha, a, rsa, csa, , b, rsb, csb, , beta, c, rsc, csc, , work] = call as number[];
      splitGemm(
        FN_GEMM,
        [m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc, work] as number[],
        'gemmBatched',
      );
      return;
    }
    const parts = pool ? partsFor(pool, batch * m * n * Math.max(k, 1), batch) : 1;
    if (!pool || parts < 2) {
      batchedRaw(...call);
      return;
    }
    for (let i = 0; i < parts; i++) {
      const lo = bound(i, parts, batch, 1);
      part.length = 0;
      for (const v of call) part.push(v);
      part[0] = bound(i + 1, parts, batch, 1) - lo;
      part[5] = (call[5] as number) + 4 * lo * (call[8] as number);
      part[9] = (call[9] as number) + 4 * lo * (call[12] as number);
      part[14] = (call[14] as number) + 4 * lo * (call[17] as number);
      pool.setPart(i, FN_GEMM_BATCHED, part, 18, WORK_GEMM);
    }
    pool.run(parts, call[18] as number, 'gemmBatched');
  }) as RawKernels['f32_gemm_batched'];

  const convWsLen = raw.f32_conv2d_workspace_len as unknown as (...g: number[]) => number;
  const pooledWsLen = raw.f32_conv2d_maxpool2_workspace_len as unknown as (...g: number[]) => number;
  /**
   * Splits a conv call (15 geometry values first) over images; `pointers` maps argument indices
   * of per-image pointers to their side: input `in`, conv output `out`, or 2×2-pooled conv
   * output `pooled`. `wsLen` gives the kernel's workspace for a geometry.
   */
  const splitConv = (
    fn: number,
    call: number[],
    pointers: readonly [number, 'in' | 'out' | 'pooled'][],
    workIdx: number,
    op: string,
    wsLen: (...g: number[]) => number = convWsLen,
  ) => {
    const pool = usable();
    if (!pool) return false;
    const [batch, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr] = call as number[] as ConvGeometryArgs;
    const oh = convOutSize(h, pt, pb, kh, dh, sh);
    const ow = convOutSize(w, pl, pr, kw, dw, sw);
    if (!(oh > 0 && ow > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0 && kh > 0 && kw > 0)) return false;
    const parts = partsFor(pool, batch * oh * ow * oc * kh * kw * c, batch);
    if (parts < 2) return false;
    const geometry = (images: number) => [images, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr];
    let largest = 0;
    for (let i = 0; i < parts; i++)
      largest = Math.max(largest, bound(i + 1, parts, batch, 1) - bound(i, parts, batch, 1));
    const need = wsLen(...geometry(largest));
    // The caller's workspace was sized for the whole batch: every part must fit in it, since the
    // calling thread may run any part.
    if (need > wsLen(...geometry(batch))) return false;
    pool.ensureScratch(4 * Math.max(1, need));
    const per = { in: h * w * c, out: oh * ow * oc, pooled: Math.floor(oh / 2) * Math.floor(ow / 2) * oc };
    for (let i = 0; i < parts; i++) {
      const lo = bound(i, parts, batch, 1);
      part.length = 0;
      for (const v of call) part.push(v);
      part[0] = bound(i + 1, parts, batch, 1) - lo;
      for (const [index, side] of pointers) part[index] = (call[index] as number) + 4 * lo * per[side];
      pool.setPart(i, fn, part, workIdx, WORK_SCRATCH);
    }
    pool.run(parts, call[workIdx] as number, op);
    return true;
  };

  kernels.f32_conv2d_forward = ((...call: number[]) => {
    // x (15) is per input image, y (18) per output image; work is argument 20.
    if (
      !splitConv(
        FN_CONV_FORWARD,
        call,
        [
          [15, 'in'],
          [18, 'out'],
        ],
        20,
        'conv2d',
      )
    )
      forwardRaw(...call);
  }) as RawKernels['f32_conv2d_forward'];

  kernels.f32_conv2d_forward_maxpool2 = ((...call: number[]) => {
    // As the plain forward, with y (18) the pooled output.
    const pointers: [number, 'in' | 'pooled'][] = [
      [15, 'in'],
      [18, 'pooled'],
    ];
    if (!splitConv(FN_CONV_FORWARD_MAXPOOL2, call, pointers, 20, 'conv2dMaxPool2', pooledWsLen)) pooledRaw(...call);
  }) as RawKernels['f32_conv2d_forward_maxpool2'];

  kernels.f32_conv2d_backward_input = ((...call: number[]) => {
    const [, , , c, kh, kw, , sh, sw, , , pt, pl, pb, pr] = call as number[];
    const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && pb === 0 && pr === 0;
    // dy (15) is per output image, dx (17) per input image; work is argument 18.
    const split =
      (pointwise || (c as number) >= 4) &&
      splitConv(
        FN_CONV_BACKWARD_INPUT,
        call,
        [
          [15, 'out'],
          [17, 'in'],
        ],
        18,
        'conv2dBackwardInput',
      );
    if (!split) backInputRaw(...call);
  }) as RawKernels['f32_conv2d_backward_input'];
}
