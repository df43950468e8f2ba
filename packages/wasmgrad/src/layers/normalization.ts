import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { getInitializer, type Initializer, initializerConfig } from '../initializers/initializers.js';
import { getRegularizer, type Regularizer } from '../regularizers/regularizers.js';
import {
  batchNormBackward,
  batchNormInference,
  batchNormTrain,
  layerNorm,
  layerNormBackward,
} from '../runtime/kernels/norm.js';
import { Layer, type LayerArgs, type LayerWeight, type StepContext } from './layer.js';

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Options shared by both normalization layers, as in tfjs-layers. */
interface NormArgs extends LayerArgs {
  /** The normalized (feature) axis; only the last axis (-1, or its index counting the batch) is supported. */
  axis?: number;
  /** Added to the variance before the square root (default 1e-3). */
  epsilon?: number;
  /** Whether to add the learned offset beta (default true). */
  center?: boolean;
  /** Whether to multiply by the learned scale gamma (default true). */
  scale?: boolean;
  /** Default zeros. */
  betaInitializer?: Initializer | string;
  /** Default ones. */
  gammaInitializer?: Initializer | string;
  betaRegularizer?: Regularizer;
  gammaRegularizer?: Regularizer;
}

/** Options of {@link BatchNormalization}. */
export interface BatchNormalizationArgs extends NormArgs {
  /** moving ← momentum·moving + (1 − momentum)·batch statistic (default 0.99). */
  momentum?: number;
  /** Default zeros. */
  movingMeanInitializer?: Initializer | string;
  /** Default ones. */
  movingVarianceInitializer?: Initializer | string;
}

/** Options of {@link LayerNormalization}. */
export type LayerNormalizationArgs = NormArgs;

const regularizerConfig = (r: Regularizer | undefined) => (r ? { className: 'L1L2', config: { ...r } } : null);

/** Shared option parsing and the gamma/beta weights of both layers. */
abstract class Normalization extends Layer {
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly betaRegularizer: Regularizer | undefined;
  readonly gammaRegularizer: Regularizer | undefined;
  protected gamma: LayerWeight | undefined;
  protected beta: LayerWeight | undefined;
  /** Size of the normalized axis. */
  protected features = 0;

  constructor(args: NormArgs, prefix: string) {
    super(args ?? {}, prefix);
    const a = args ?? {};
    this.axis = a.axis ?? -1;
    if (!Number.isSafeInteger(this.axis) || (this.axis < 1 && this.axis !== -1)) {
      throw new ValueError(this.name, `axis must be -1 (the last axis), got ${a.axis}`);
    }
    this.epsilon = a.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon > 0 && Number.isFinite(this.epsilon))) {
      throw new ValueError(this.name, `epsilon must be a positive finite number, got ${a.epsilon}`);
    }
    this.center = a.center ?? true;
    this.scale = a.scale ?? true;
    this.betaInitializer = getInitializer(a.betaInitializer, 'zeros', this.name);
    this.gammaInitializer = getInitializer(a.gammaInitializer, 'ones', this.name);
    this.betaRegularizer = getRegularizer(a.betaRegularizer);
    this.gammaRegularizer = getRegularizer(a.gammaRegularizer);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length === 0)
      throw new ShapeError(this.name, `needs an input of rank ≥ 1 per sample, got ${fmtShape(inputShape)}`);
    // A positive axis counts the batch axis (Keras): the last one is inputShape.length.
    if (this.axis !== -1 && this.axis !== inputShape.length) {
      throw new ValueError(
        this.name,
        `only the last axis can be normalized: axis ${this.axis} of input [null,${inputShape.join(',')}]`,
      );
    }
    return [...inputShape];
  }

  protected override declareWeights(inputShape: readonly number[]): void {
    this.features = inputShape[inputShape.length - 1] as number;
    if (this.scale) this.gamma = this.addWeight('gamma', [this.features], this.gammaInitializer, this.gammaRegularizer);
    if (this.center) this.beta = this.addWeight('beta', [this.features], this.betaInitializer, this.betaRegularizer);
  }

  /** Rows of the flattened [rows, features] input. */
  protected rows(batch: number): number {
    return (batch * product(this.inputShape as number[])) / this.features;
  }

  /** Gradient buffers of gamma and beta, or null when absent or frozen. */
  protected paramGrads(): { dgamma: number | null; dbeta: number | null } {
    const on = this.trainable;
    return {
      dgamma: on && this.gamma ? this.gamma.grad : null,
      dbeta: on && this.beta ? this.beta.grad : null,
    };
  }

  protected baseConfig(): Record<string, unknown> {
    return {
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: initializerConfig(this.betaInitializer),
      gammaInitializer: initializerConfig(this.gammaInitializer),
      betaRegularizer: regularizerConfig(this.betaRegularizer),
      gammaRegularizer: regularizerConfig(this.gammaRegularizer),
    };
  }
}

/**
 * Batch normalization over the last axis (channels of NHWC images; rows = batch·H·W):
 * y = gamma·(x − mean)/√(var + ε) + beta. In training (fit, trainOnBatch, lossAndGradients) it uses
 * the batch statistics (biased variance) and moves the non-trainable movingMean/movingVariance
 * towards them (unbiased variance, as tfjs-layers and PyTorch) in the same forward pass; in
 * inference (predict, evaluate, validation) it uses the moving statistics. As in tfjs-layers a
 * frozen layer (trainable = false) keeps gamma and beta but still uses batch statistics in training.
 */
export class BatchNormalization extends Normalization {
  readonly className = 'BatchNormalization';
  readonly momentum: number;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;
  private movingMean!: LayerWeight;
  private movingVariance!: LayerWeight;
  private x = 0;
  private mean = 0;
  private invstd = 0;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 'batch_normalization');
    const a = args ?? {};
    this.momentum = a.momentum ?? 0.99;
    if (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new ValueError(this.name, `momentum must be a number in [0, 1], got ${a.momentum}`);
    }
    this.movingMeanInitializer = getInitializer(a.movingMeanInitializer, 'zeros', this.name);
    this.movingVarianceInitializer = getInitializer(a.movingVarianceInitializer, 'ones', this.name);
  }

  protected override declareWeights(inputShape: readonly number[]): void {
    super.declareWeights(inputShape);
    this.movingMean = this.addWeight('moving_mean', [this.features], this.movingMeanInitializer, undefined, false);
    this.movingVariance = this.addWeight(
      'moving_variance',
      [this.features],
      this.movingVarianceInitializer,
      undefined,
      false,
    );
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const rows = this.rows(batch);
    const c = this.features;
    const y = ctx.alloc(rows * c);
    const params = { gamma: this.gamma?.ptr, beta: this.beta?.ptr };
    if (!ctx.training) {
      batchNormInference(
        ctx.rt,
        rows,
        c,
        x,
        y,
        { ...params, movingMean: this.movingMean.ptr, movingVar: this.movingVariance.ptr },
        this.epsilon,
        this.name,
      );
      return y;
    }
    this.x = x;
    this.mean = ctx.alloc(c);
    this.invstd = ctx.alloc(c);
    batchNormTrain(
      ctx.rt,
      rows,
      c,
      x,
      y,
      {
        ...params,
        mean: this.mean,
        invstd: this.invstd,
        movingMean: this.movingMean.ptr,
        movingVar: this.movingVariance.ptr,
      },
      this.epsilon,
      this.momentum,
      this.name,
    );
    return y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    const rows = this.rows(batch);
    const c = this.features;
    const grads = this.paramGrads();
    // The kernel always computes dx; give it scratch when the caller does not want it.
    const dx = ctx.alloc(rows * c);
    batchNormBackward(
      ctx.rt,
      rows,
      c,
      this.x,
      dy,
      dx,
      { gamma: this.gamma?.ptr, mean: this.mean, invstd: this.invstd, ...grads },
      this.name,
    );
    return needDx ? dx : 0;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...this.baseConfig(),
      momentum: this.momentum,
      movingMeanInitializer: initializerConfig(this.movingMeanInitializer),
      movingVarianceInitializer: initializerConfig(this.movingVarianceInitializer),
    };
  }
}

/**
 * Layer normalization over the last axis of each sample (each row of [rows, features]):
 * y = gamma·(x − mean_row)/√(var_row + ε) + beta, the same in training and inference.
 */
export class LayerNormalization extends Normalization {
  readonly className = 'LayerNormalization';
  private x = 0;
  private mean = 0;
  private rstd = 0;

  constructor(args: LayerNormalizationArgs = {}) {
    super(args, 'layer_normalization');
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const rows = this.rows(batch);
    const c = this.features;
    const y = ctx.alloc(rows * c);
    this.x = x;
    this.mean = ctx.alloc(rows);
    this.rstd = ctx.alloc(rows);
    layerNorm(
      ctx.rt,
      rows,
      c,
      x,
      y,
      { gamma: this.gamma?.ptr, beta: this.beta?.ptr, mean: this.mean, rstd: this.rstd },
      this.epsilon,
      this.name,
    );
    return y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    const rows = this.rows(batch);
    const c = this.features;
    const dx = ctx.alloc(rows * c);
    layerNormBackward(
      ctx.rt,
      rows,
      c,
      this.x,
      dy,
      dx,
      { gamma: this.gamma?.ptr, mean: this.mean, rstd: this.rstd, ...this.paramGrads() },
      this.name,
    );
    return needDx ? dx : 0;
  }

  getConfig(): Record<string, unknown> {
    return this.baseConfig();
  }
}
