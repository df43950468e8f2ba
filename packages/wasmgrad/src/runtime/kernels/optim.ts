/**
 * Checked bindings of the fused optimizer kernels (crates/kernels/src/optim.rs): one pass over a
 * range of `n` parameters updates the parameters and the optimizer state in place.
 *
 * Every parameter of a model lives in one flat f32 buffer, its gradient and each state buffer in
 * buffers of the same layout; a range is `n` elements from given byte addresses, so one call can update every parameter, or one tensor, or only the kernels when a
 * weight decay applies to them and not to the biases. Wrappers take the kernel's arguments in the
 * kernel's order (byte addresses for buffers, 0 for an absent optional buffer); step-dependent
 * optimizers take their hyperparameters as an options object.
 *
 * Formulas follow Keras 3 (see each kernel's doc comment in optim.rs for the exact update and where
 * PyTorch differs). Step-dependent factors (bias corrections, Nadam's schedule) are computed here
 * in f64 from the 1-based `step`.
 */
import { ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkBytes } from './check.js';

export const OPTIM_SIGNATURES = {
  f32_sgd: ['n', 'p', 'g', 'lr'],
  f32_sgd_momentum: ['n', 'p', 'g', 'v', 'lr', 'momentum'],
  f32_sgd_nesterov: ['n', 'p', 'g', 'v', 'lr', 'momentum'],
  f32_adam: ['n', 'p', 'g', 'm', 'v', 'vhat', 'lr_t', 'beta1', 'beta2', 'eps_t', 'decay'],
  f32_adamax: ['n', 'p', 'g', 'm', 'u', 'lr_t', 'beta1', 'beta2', 'eps'],
  f32_nadam: ['n', 'p', 'g', 'm', 'v', 'c_m', 'c_g', 'beta1', 'beta2', 'v_scale', 'eps'],
  f32_rmsprop: ['n', 'p', 'g', 'v', 'mg', 'mom', 'lr', 'rho', 'momentum', 'eps'],
  f32_adagrad: ['n', 'p', 'g', 'acc', 'lr', 'eps'],
  f32_adadelta: ['n', 'p', 'g', 'ag', 'ad', 'lr', 'rho', 'eps'],
  f32_weight_decay: ['n', 'p', 'factor'],
  f32_add_penalty_grad: ['n', 'p', 'g', 'l1', 'l2'],
  f32_penalty: ['n', 'p', 'l1', 'l2'],
  f32_clip_by_value: ['n', 'g', 'lo', 'hi'],
  f32_clip_by_norm: ['n', 'g', 'clip'],
  f32_clip_scale: ['n', 'g', 'norm', 'clip'],
} as const;

// ---- argument checks ----

function checkCount(op: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new ValueError(op, `${name} must be a non-negative integer, got ${v}`);
}

function checkNumber(op: string, name: string, v: number, lo = -Infinity, hi = Infinity, hiOpen = false): number {
  // An open bound is checked on the f32 the kernel sees (β = 0.99999999 rounds to 1).
  const ok = typeof v === 'number' && Number.isFinite(v) && v >= lo && (hiOpen ? Math.fround(v) < hi : v <= hi);
  if (!ok) {
    const range = lo === -Infinity && hi === Infinity ? 'a finite number' : `in [${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    throw new ValueError(op, `${name} must be ${range}, got ${v}`);
  }
  return v;
}

/**
 * Checks that each named buffer of `n` f32 values lies in the heap and that no two overlap
 * (an update reading a buffer that it also writes under another name would be silently wrong).
 */
function checkBuffers(rt: Runtime, op: string, n: number, buffers: Record<string, number>): void {
  checkCount(op, 'n', n);
  if (n === 0) return;
  const spans = Object.entries(buffers);
  for (const [name, ptr] of spans) checkBytes(rt, op, name, ptr, 4 * n);
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const [a, pa] = spans[i] as [string, number];
      const [b, pb] = spans[j] as [string, number];
      if (pa < pb + 4 * n && pb < pa + 4 * n) {
        throw new ValueError(op, `buffers ${a} [${pa}, ${pa + 4 * n}) and ${b} [${pb}, ${pb + 4 * n}) overlap`);
      }
    }
  }
}

function checkStep(op: string, step: number): void {
  if (!Number.isSafeInteger(step) || step < 1) throw new ValueError(op, `step must be an integer ≥ 1, got ${step}`);
}

// ---- SGD ----

/** Plain SGD step (Keras `SGD` without momentum): `p ← p − lr·g`. */
export function sgd(rt: Runtime, n: number, p: number, g: number, lr: number, op = 'sgd'): void {
  checkNumber(op, 'learningRate', lr);
  checkBuffers(rt, op, n, { param: p, grad: g });
  rt.kernels.f32_sgd(n, p, g, lr);
}

/** SGD with momentum, Keras formulation: `v ← m·v − lr·g; p ← p + v`. */
export function sgdMomentum(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  v: number,
  lr: number,
  momentum: number,
  op = 'sgd',
): void {
  checkNumber(op, 'learningRate', lr);
  checkNumber(op, 'momentum', momentum, 0, 1);
  checkBuffers(rt, op, n, { param: p, grad: g, velocity: v });
  rt.kernels.f32_sgd_momentum(n, p, g, v, lr, momentum);
}

/** SGD with Nesterov momentum, Keras formulation: `v ← m·v − lr·g; p ← p + m·v − lr·g`. */
export function sgdNesterov(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  v: number,
  lr: number,
  momentum: number,
  op = 'sgd',
): void {
  checkNumber(op, 'learningRate', lr);
  checkNumber(op, 'momentum', momentum, 0, 1);
  checkBuffers(rt, op, n, { param: p, grad: g, velocity: v });
  rt.kernels.f32_sgd_nesterov(n, p, g, v, lr, momentum);
}

// ---- Adam family ----

/** Options of {@link adam} (Keras `Adam`, and `AdamW` with weightDecay > 0). */
export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** 1-based number of this update (bias correction). */
  step: number;
  /** Decoupled weight decay (AdamW): `p ← p − lr·weightDecay·p` before the update. Default 0. */
  weightDecay?: number;
  /**
   * Where epsilon sits. `'keras'` (default): `p ← p − lr·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + ε)`;
   * `'pytorch'`: `p ← p − lr/(1−β1ᵗ)·m/(√v/√(1−β2ᵗ) + ε)` (ε added to the bias-corrected root).
   */
  epsilonMode?: 'keras' | 'pytorch';
}

/** The scalars the Adam kernel takes for a step: bias corrections folded into lr and epsilon. */
export function adamFactors(o: AdamOptions, op = 'adam'): { lrT: number; epsT: number; decay: number } {
  const lr = checkNumber(op, 'learningRate', o.learningRate);
  const b1 = checkNumber(op, 'beta1', o.beta1 ?? 0.9, 0, 1, true);
  const b2 = checkNumber(op, 'beta2', o.beta2 ?? 0.999, 0, 1, true);
  const eps = checkNumber(op, 'epsilon', o.epsilon ?? 1e-7, 0);
  const wd = checkNumber(op, 'weightDecay', o.weightDecay ?? 0, 0);
  checkStep(op, o.step);
  const bc1 = 1 - b1 ** o.step;
  const bc2 = 1 - b2 ** o.step;
  const epsT = (o.epsilonMode ?? 'keras') === 'keras' ? eps : eps * Math.sqrt(bc2);
  return { lrT: (lr * Math.sqrt(bc2)) / bc1, epsT, decay: lr * wd };
}

/**
 * Adam / AdamW / AMSGrad step (AMSGrad when `vhat` ≠ 0):
 * `m ← m + (g − m)(1 − β1); v ← v + (g² − v)(1 − β2); [v̂ ← max(v̂, v)]; p ← p − lr_t·m/(√v + ε)`.
 */
export function adam(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  m: number,
  v: number,
  vhat: number,
  o: AdamOptions,
  op = 'adam',
): void {
  const { lrT, epsT, decay } = adamFactors(o, op);
  const buffers: Record<string, number> = { param: p, grad: g, m, v };
  if (vhat) buffers.vhat = vhat;
  checkBuffers(rt, op, n, buffers);
  rt.kernels.f32_adam(n, p, g, m, v, vhat, lrT, o.beta1 ?? 0.9, o.beta2 ?? 0.999, epsT, decay);
}

/** Options of {@link adamax} (Keras `Adamax`). */
export interface AdamaxOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** 1-based number of this update. */
  step: number;
}

/** Adamax step: `m ← m + (g − m)(1 − β1); u ← max(β2·u, |g|); p ← p − lr/(1 − β1ᵗ)·m/(u + ε)`. */
export function adamax(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  m: number,
  u: number,
  o: AdamaxOptions,
  op = 'adamax',
): void {
  const lr = checkNumber(op, 'learningRate', o.learningRate);
  const b1 = checkNumber(op, 'beta1', o.beta1 ?? 0.9, 0, 1, true);
  const b2 = checkNumber(op, 'beta2', o.beta2 ?? 0.999, 0, 1, true);
  const eps = checkNumber(op, 'epsilon', o.epsilon ?? 1e-7, 0);
  checkStep(op, o.step);
  checkBuffers(rt, op, n, { param: p, grad: g, m, u });
  rt.kernels.f32_adamax(n, p, g, m, u, lr / (1 - b1 ** o.step), b1, b2, eps);
}

/** Options of {@link nadam} (Keras `Nadam`). */
export interface NadamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** 1-based number of this update. */
  step: number;
  /**
   * μ_1⋯μ_{t−1}, the running product an optimizer may carry (1 before the first step; multiply
   * by {@link nadamMu}(t) after step t). When absent it is recomputed from `step`.
   */
  muProduct?: number;
  /** ψ in μ_t = β1(1 − ½·0.96^(ψ·t)): 1 in Keras (default), 0.004 in PyTorch's `NAdam`. */
  momentumDecay?: number;
}

/** μ_t = β1·(1 − ½·0.96^(ψ·t)), the Nadam momentum schedule. */
export function nadamMu(step: number, beta1 = 0.9, momentumDecay = 1): number {
  return beta1 * (1 - 0.5 * 0.96 ** (momentumDecay * step));
}

/**
 * μ_1⋯μ_t = β1ᵗ·Π(1 − ½·0.96^(ψi)); factors with 0.96^(ψi) < 1e-17 equal 1 in f64, so the loop
 * stops there (after ~960 factors for ψ = 1).
 */
export function nadamMuProduct(step: number, beta1 = 0.9, momentumDecay = 1): number {
  const last = Math.min(step, Math.ceil(Math.log(1e-17) / (momentumDecay * Math.log(0.96))));
  let prod = beta1 ** step;
  for (let i = 1; i <= last; i++) prod *= 1 - 0.5 * 0.96 ** (momentumDecay * i);
  return prod;
}

/**
 * Nadam step: `m`, `v` as Adam; `p ← p − (c_m·m + c_g·g)/(√(v/(1 − β2ᵗ)) + ε)` with
 * `c_m = lr·μ_{t+1}/(1 − Π_t·μ_{t+1})`, `c_g = lr·(1 − μ_t)/(1 − Π_t)`, `Π_t = μ_1⋯μ_t`.
 */
export function nadam(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  m: number,
  v: number,
  o: NadamOptions,
  op = 'nadam',
): void {
  const lr = checkNumber(op, 'learningRate', o.learningRate);
  const b1 = checkNumber(op, 'beta1', o.beta1 ?? 0.9, 0, 1, true);
  const b2 = checkNumber(op, 'beta2', o.beta2 ?? 0.999, 0, 1, true);
  const eps = checkNumber(op, 'epsilon', o.epsilon ?? 1e-7, 0);
  const psi = checkNumber(op, 'momentumDecay', o.momentumDecay ?? 1, 0);
  checkStep(op, o.step);
  if (psi === 0) throw new ValueError(op, 'momentumDecay must be positive');
  const prev =
    o.muProduct === undefined ? nadamMuProduct(o.step - 1, b1, psi) : checkNumber(op, 'muProduct', o.muProduct, 0, 1);
  checkBuffers(rt, op, n, { param: p, grad: g, m, v });
  const mu = nadamMu(o.step, b1, psi);
  const muNext = nadamMu(o.step + 1, b1, psi);
  const prod = prev * mu;
  const cM = (lr * muNext) / (1 - prod * muNext);
  const cG = (lr * (1 - mu)) / (1 - prod);
  const vScale = 1 / (1 - b2 ** o.step);
  rt.kernels.f32_nadam(n, p, g, m, v, cM, cG, b1, b2, vScale, eps);
}

// ---- RMSprop, Adagrad, Adadelta ----

/**
 * RMSprop step, Keras formulation: `v ← ρv + (1 − ρ)g²`; centered (`mg` ≠ 0):
 * `a ← ρa + (1 − ρ)g`, `d = v − a² + ε`, else `d = v + ε`; `inc = lr·g/√d`; with a momentum
 * buffer (`mom` ≠ 0) `b ← μb + inc, p ← p − b`, else `p ← p − inc`.
 */
export function rmsprop(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  v: number,
  mg: number,
  mom: number,
  lr: number,
  rho: number,
  momentum: number,
  eps: number,
  op = 'rmsprop',
): void {
  checkNumber(op, 'learningRate', lr);
  checkNumber(op, 'rho', rho, 0, 1);
  checkNumber(op, 'momentum', momentum, 0, 1);
  checkNumber(op, 'epsilon', eps, 0);
  if (momentum > 0 && !mom) throw new ValueError(op, `momentum ${momentum} needs the momentum buffer`);
  const buffers: Record<string, number> = { param: p, grad: g, v };
  if (mg) buffers.meanGrad = mg;
  if (mom) buffers.momentum = mom;
  checkBuffers(rt, op, n, buffers);
  rt.kernels.f32_rmsprop(n, p, g, v, mg, mom, lr, rho, momentum, eps);
}

/** Keras's initial Adagrad accumulator value: fill the accumulator with it before step 1. */
export const ADAGRAD_INITIAL_ACCUMULATOR = 0.1;

/** Adagrad step, Keras formulation: `acc ← acc + g²; p ← p − lr·g/√(acc + ε)`. */
export function adagrad(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  acc: number,
  lr: number,
  eps: number,
  op = 'adagrad',
): void {
  checkNumber(op, 'learningRate', lr);
  checkNumber(op, 'epsilon', eps, 0);
  checkBuffers(rt, op, n, { param: p, grad: g, accumulator: acc });
  rt.kernels.f32_adagrad(n, p, g, acc, lr, eps);
}

/**
 * Adadelta step (Keras = PyTorch): `ag ← ρ·ag + (1 − ρ)g²; δ = −√(ad + ε)·g/√(ag + ε);
 * ad ← ρ·ad + (1 − ρ)δ²; p ← p + lr·δ`.
 */
export function adadelta(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  ag: number,
  ad: number,
  lr: number,
  rho: number,
  eps: number,
  op = 'adadelta',
): void {
  checkNumber(op, 'learningRate', lr);
  checkNumber(op, 'rho', rho, 0, 1);
  checkNumber(op, 'epsilon', eps, 0);
  checkBuffers(rt, op, n, { param: p, grad: g, accGrad: ag, accDelta: ad });
  rt.kernels.f32_adadelta(n, p, g, ag, ad, lr, rho, eps);
}

/** Decoupled weight decay `p ← p − factor·p` (Keras 3 `weight_decay`: factor = lr·weightDecay). */
export function weightDecay(rt: Runtime, n: number, p: number, factor: number, op = 'weightDecay'): void {
  checkNumber(op, 'factor', factor);
  checkBuffers(rt, op, n, { param: p });
  rt.kernels.f32_weight_decay(n, p, factor);
}

// ---- penalties (Keras `L1L2`) and clipping ----

/** Adds the gradient of `l1·Σ|p| + l2·Σp²` into `g`: `g ← g + l1·sign(p) + 2·l2·p`. */
export function addPenaltyGrad(
  rt: Runtime,
  n: number,
  p: number,
  g: number,
  l1: number,
  l2: number,
  op = 'regularizer',
): void {
  checkNumber(op, 'l1', l1, 0);
  checkNumber(op, 'l2', l2, 0);
  checkBuffers(rt, op, n, { param: p, grad: g });
  rt.kernels.f32_add_penalty_grad(n, p, g, l1, l2);
}

/** The penalty `l1·Σ|p| + l2·Σp²` over `n` parameters (summed in f64 blocks). */
export function penalty(rt: Runtime, n: number, p: number, l1: number, l2: number, op = 'regularizer'): number {
  checkNumber(op, 'l1', l1, 0);
  checkNumber(op, 'l2', l2, 0);
  checkBuffers(rt, op, n, { param: p });
  return rt.kernels.f32_penalty(n, p, l1, l2);
}

/** Clamps every gradient into [lo, hi] (Keras `clipvalue: c` is lo = −c, hi = c). NaN stays NaN. */
export function clipByValue(rt: Runtime, n: number, g: number, lo: number, hi: number, op = 'clipvalue'): void {
  checkNumber(op, 'lo', lo);
  checkNumber(op, 'hi', hi, lo);
  checkBuffers(rt, op, n, { grad: g });
  rt.kernels.f32_clip_by_value(n, g, lo, hi);
}

function checkClip(op: string, clipNorm: number): void {
  if (typeof clipNorm !== 'number' || !(clipNorm > 0) || !Number.isFinite(clipNorm)) {
    throw new ValueError(op, `clipNorm must be a positive finite number, got ${clipNorm}`);
  }
}

/**
 * Rescales `n` gradients to L2 norm ≤ clipNorm: `g ← g·clip/max(‖g‖, clip)` (Keras `clipnorm`
 * per tensor; over the whole flat gradient buffer it is `global_clipnorm`). Returns ‖g‖ before.
 */
export function clipByNorm(rt: Runtime, n: number, g: number, clipNorm: number, op = 'clipnorm'): number {
  checkClip(op, clipNorm);
  checkBuffers(rt, op, n, { grad: g });
  return rt.kernels.f32_clip_by_norm(n, g, clipNorm);
}

/**
 * Rescales several gradient ranges together so that their joint L2 norm is ≤ clipNorm (Keras
 * `global_clipnorm`, `tf.clip_by_global_norm`); returns the global norm before clipping.
 */
export function clipByGlobalNorm(
  rt: Runtime,
  ranges: readonly { n: number; grad: number }[],
  clipNorm: number,
  op = 'global_clipnorm',
): number {
  checkClip(op, clipNorm);
  for (const r of ranges) checkBuffers(rt, op, r.n, { grad: r.grad });
  if (ranges.length === 1) {
    const r = ranges[0] as { n: number; grad: number };
    return rt.kernels.f32_clip_by_norm(r.n, r.grad, clipNorm);
  }
  let sumSquares = 0;
  for (const r of ranges) sumSquares += rt.kernels.f32_penalty(r.n, r.grad, 0, 1);
  const norm = Math.sqrt(sumSquares);
  for (const r of ranges) rt.kernels.f32_clip_scale(r.n, r.grad, norm, clipNorm);
  return norm;
}
