import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { getInitializer, type Initializer, initializerConfig } from '../initializers/initializers.js';
import { getRegularizer, type Regularizer } from '../regularizers/regularizers.js';
import { axpy, broadcastBinary, scale } from '../runtime/kernels/elementwise.js';
import { gemm, gemmBiasAct } from '../runtime/kernels/gemm.js';
import { sumRows } from '../runtime/kernels/reduce.js';
import { Layer, type LayerArgs, type LayerWeight, type StepContext } from './layer.js';

/** Options of {@link Cross}, as in TF-Recommenders `tfrs.layers.dcn.Cross`. */
export interface CrossArgs extends LayerArgs {
  /**
   * Rank r of a low-rank kernel W = U·V (U: d×r, V: r×d), which costs 2·d·r weights instead of
   * d² (DCN-V2's "DCN-Mix" idea without the mixture). Default: full rank.
   */
  projectionDim?: number | null;
  /** Whether to add the bias b (default true). */
  useBias?: boolean;
  /** Default truncatedNormal (stddev 0.05), as TF-Recommenders. */
  kernelInitializer?: Initializer | string;
  /** Default zeros. */
  biasInitializer?: Initializer | string;
  kernelRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
}

/**
 * The cross layer of Deep & Cross Network V2 (Wang et al. 2021, "DCN V2"):
 * x_{l+1} = x₀ ⊙ (x_l·W + b) + x_l over the last axis. Applied as `cross.apply([x0, xl])`, or
 * `cross.apply(x0)` for the first layer of a stack (x_l = x₀). Stacking L of them models feature
 * interactions up to degree L + 1. Forward is one gemm (two when low-rank) with the bias fused,
 * one elementwise product and one axpy; backward is the transposed gemms, a column sum and two
 * products, all into step scratch.
 */
export class Cross extends Layer {
  readonly className = 'Cross';
  readonly projectionDim: number | undefined;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | undefined;
  readonly biasRegularizer: Regularizer | undefined;
  /** Full rank: W (d×d). Low rank: U (d×r). */
  private kernel!: LayerWeight;
  /** Low rank: V (r×d). */
  private kernelV: LayerWeight | undefined;
  private bias: LayerWeight | undefined;
  private features = 0;
  private inputCount = 1;
  // Buffers of the last forward, read by backward.
  private x0 = 0;
  private xl = 0;
  /** Low rank: h = x_l·U. */
  private h = 0;
  /** p = x_l·W + b. */
  private p = 0;

  constructor(args: CrossArgs = {}) {
    super(args ?? {}, 'cross');
    const r = args?.projectionDim ?? undefined;
    if (r !== undefined && (!Number.isSafeInteger(r) || r <= 0)) {
      throw new ValueError(this.name, `projectionDim must be a positive integer or null, got ${r}`);
    }
    this.projectionDim = r;
    this.useBias = args?.useBias ?? true;
    this.kernelInitializer = getInitializer(args?.kernelInitializer, 'truncatedNormal', this.name);
    this.biasInitializer = getInitializer(args?.biasInitializer, 'zeros', this.name);
    this.kernelRegularizer = getRegularizer(args?.kernelRegularizer);
    this.biasRegularizer = getRegularizer(args?.biasRegularizer);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length === 0)
      throw new ShapeError(this.name, `needs inputs of rank ≥ 1 per sample, got ${fmtShape(inputShape)}`);
    return [...inputShape];
  }

  /** One input (x₀, also x_l) or two of one shape ([x₀, x_l]). */
  override buildMulti(inputShapes: readonly (readonly number[])[]): void {
    const n = inputShapes.length;
    if (n !== 1 && n !== 2) throw new ShapeError(this.name, `takes 1 or 2 inputs ([x0, xl]), got ${n}`);
    if (n === 2 && fmtShape(inputShapes[0] as number[]) !== fmtShape(inputShapes[1] as number[])) {
      throw new ShapeError(
        this.name,
        `x0 and xl must have one shape, got ${fmtShape(inputShapes[0] as number[])} and ${fmtShape(inputShapes[1] as number[])}`,
      );
    }
    if (this.built && n !== this.inputCount) {
      throw new ShapeError(this.name, `was built for ${this.inputCount} input(s), got ${n}`);
    }
    this.inputCount = n;
    this.build(inputShapes[0] as readonly number[]);
    this.inputShapes = inputShapes.map((s) => [...s]);
    this.outputShapes = [this.outputShape];
  }

  protected override declareWeights(inputShape: readonly number[]): void {
    const d = inputShape[inputShape.length - 1] as number;
    this.features = d;
    const r = this.projectionDim;
    if (r === undefined) {
      this.kernel = this.addWeight('kernel', [d, d], this.kernelInitializer, this.kernelRegularizer);
    } else {
      this.kernel = this.addWeight('kernel_u', [d, r], this.kernelInitializer, this.kernelRegularizer);
      this.kernelV = this.addWeight('kernel_v', [r, d], this.kernelInitializer, this.kernelRegularizer);
    }
    if (this.useBias) this.bias = this.addWeight('bias', [d], this.biasInitializer, this.biasRegularizer);
  }

  /** Rows of the flattened [rows, d] input. */
  private rows(batch: number): number {
    return batch * (this.inputShape as number[]).slice(0, -1).reduce((a, b) => a * b, 1);
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    return this.forwardMulti(ctx, [x], batch)[0] as number;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    return this.backwardMulti(ctx, [dy], batch, needDx)[0] as number;
  }

  override forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    const { rt } = ctx;
    const rows = this.rows(batch);
    const d = this.features;
    const x0 = xs[0] as number;
    const xl = xs.length > 1 ? (xs[1] as number) : x0;
    const bias = this.bias ? this.bias.ptr : null;
    const p = ctx.alloc(rows * d);
    const r = this.projectionDim;
    if (r === undefined) {
      gemmBiasAct(rt, rows, d, d, mat(xl, d), mat(this.kernel.ptr, d), bias, mat(p, d), 'linear', this.name);
    } else {
      this.h = ctx.alloc(rows * r);
      gemm(rt, rows, r, d, 1, mat(xl, d), mat(this.kernel.ptr, r), 0, mat(this.h, r), this.name);
      const v = this.kernelV as LayerWeight;
      gemmBiasAct(rt, rows, d, r, mat(this.h, r), mat(v.ptr, d), bias, mat(p, d), 'linear', this.name);
    }
    const y = ctx.alloc(rows * d);
    broadcastBinary(rt, 'mul', rows, d, x0, p, 'full', y);
    axpy(rt, rows * d, 1, xl, y, this.name);
    this.x0 = x0;
    this.xl = xl;
    this.p = p;
    return [y];
  }

  override backwardMulti(ctx: StepContext, dys: readonly number[], batch: number, needDx: boolean): number[] {
    const { rt } = ctx;
    const rows = this.rows(batch);
    const d = this.features;
    const n = rows * d;
    const dy = dys[0] as number;
    const train = this.trainable;
    // y = x0 ⊙ p + xl  ⇒  dp = dy ⊙ x0,  dx0 = dy ⊙ p,  dxl = dy + (dp through p = xl·W + b).
    const dp = ctx.alloc(n);
    broadcastBinary(rt, 'mul', rows, d, dy, this.x0, 'full', dp);
    if (train && this.bias) sumRows(rt, rows, d, dp, this.bias.grad, {}, this.name);
    let dxl = 0;
    if (needDx) {
      dxl = ctx.alloc(n);
      scale(rt, n, dy, 1, 0, dxl, this.name);
    }
    const r = this.projectionDim;
    if (r === undefined) {
      const w = this.kernel;
      // dW = xlᵀ·dp; dxl += dp·Wᵀ (transposes through strides).
      if (train) gemm(rt, d, d, rows, 1, matT(this.xl, d), mat(dp, d), 0, mat(w.grad, d), this.name);
      if (needDx) gemm(rt, rows, d, d, 1, mat(dp, d), matT(w.ptr, d), 1, mat(dxl, d), this.name);
    } else {
      const u = this.kernel;
      const v = this.kernelV as LayerWeight;
      // p = h·V + b, h = xl·U  ⇒  dV = hᵀ·dp, dh = dp·Vᵀ, dU = xlᵀ·dh, dxl += dh·Uᵀ.
      if (train) gemm(rt, r, d, rows, 1, matT(this.h, r), mat(dp, d), 0, mat(v.grad, d), this.name);
      const dh = ctx.alloc(rows * r);
      gemm(rt, rows, r, d, 1, mat(dp, d), matT(v.ptr, d), 0, mat(dh, r), this.name);
      if (train) gemm(rt, d, r, rows, 1, matT(this.xl, d), mat(dh, r), 0, mat(u.grad, r), this.name);
      if (needDx) gemm(rt, rows, d, r, 1, mat(dh, r), matT(u.ptr, r), 1, mat(dxl, d), this.name);
    }
    if (!needDx) return this.inputCount === 1 ? [0] : [0, 0];
    const dx0 = ctx.alloc(n);
    broadcastBinary(rt, 'mul', rows, d, dy, this.p, 'full', dx0);
    if (this.inputCount === 2) return [dx0, dxl];
    // One input: x0 and xl are the same tensor, so their gradients add.
    axpy(rt, n, 1, dx0, dxl, this.name);
    return [dxl];
  }

  getConfig(): Record<string, unknown> {
    const reg = (r: Regularizer | undefined) => (r ? { className: 'L1L2', config: { ...r } } : null);
    return {
      projectionDim: this.projectionDim ?? null,
      useBias: this.useBias,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: reg(this.kernelRegularizer),
      biasRegularizer: reg(this.biasRegularizer),
    };
  }
}

/** A row-major matrix with `cols` columns at `ptr`. */
const mat = (ptr: number, cols: number) => ({ ptr, rowStride: cols, colStride: 1 });
/** The transpose of a row-major matrix with `cols` columns at `ptr`, read through strides. */
const matT = (ptr: number, cols: number) => ({ ptr, rowStride: 1, colStride: cols });
