import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { getInitializer, type Initializer, initializerConfig } from '../initializers/initializers.js';
import { getRegularizer, type Regularizer } from '../regularizers/regularizers.js';
import { gemm, gemmBiasAct } from '../runtime/kernels/gemm.js';
import { sumRows } from '../runtime/kernels/reduce.js';
import {
  type Activation,
  type ActivationIdentifier,
  activationBackward,
  activationConfig,
  activationForward,
  gemmEpilogue,
  getActivation,
} from './activations.js';
import { Layer, type LayerArgs, type LayerWeight, type StepContext } from './layer.js';

/** Options of {@link dense}, as in tfjs-layers. */
export interface DenseArgs extends LayerArgs {
  /** Output size. */
  units: number;
  /** Applied to x·W + b (default linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias vector (default true). */
  useBias?: boolean;
  /** Default glorotUniform. */
  kernelInitializer?: Initializer | string;
  /** Default zeros. */
  biasInitializer?: Initializer | string;
  kernelRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
}

/**
 * Densely connected layer: y = activation(x·W + b) over the last axis (leading axes are batch-like).
 * Forward is one gemm with the bias and the activation fused into its store where the kernel has
 * them (linear, relu); backward is two gemms with transposes through strides and one column sum.
 */
export class Dense extends Layer {
  readonly className = 'Dense';
  readonly units: number;
  readonly activation: Activation;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | undefined;
  readonly biasRegularizer: Regularizer | undefined;
  /**
   * Set by the model when the loss applies this layer's final softmax or sigmoid itself (fused
   * cross-entropy from logits): training then skips the activation here.
   */
  activationInLoss = false;
  private kernel!: LayerWeight;
  private bias: LayerWeight | undefined;
  private inFeatures = 0;
  private x = 0;
  private z = 0;
  private y = 0;

  constructor(args: DenseArgs) {
    super(args, 'dense');
    if (!Number.isSafeInteger(args?.units) || args.units <= 0) {
      throw new ValueError(this.name, `units must be a positive integer, got ${args?.units}`);
    }
    this.units = args.units;
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer, 'glorotUniform', this.name);
    this.biasInitializer = getInitializer(args.biasInitializer, 'zeros', this.name);
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer);
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length === 0)
      throw new ShapeError(this.name, `needs an input of rank ≥ 1, got ${fmtShape(inputShape)}`);
    return [...inputShape.slice(0, -1), this.units];
  }

  protected override declareWeights(inputShape: readonly number[]): void {
    this.inFeatures = inputShape[inputShape.length - 1] as number;
    this.kernel = this.addWeight(
      'kernel',
      [this.inFeatures, this.units],
      this.kernelInitializer,
      this.kernelRegularizer,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], this.biasInitializer, this.biasRegularizer);
  }

  /** Rows of the flattened [rows, inFeatures] input. */
  private rows(batch: number): number {
    const lead = (this.inputShape as number[]).slice(0, -1).reduce((a, b) => a * b, 1);
    return batch * lead;
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const rows = this.rows(batch);
    const n = rows * this.units;
    const skip = this.activationInLoss && ctx.lossAppliesActivation;
    const epilogue = skip ? 'linear' : gemmEpilogue(this.activation);
    this.x = x;
    this.z = ctx.alloc(n);
    gemmBiasAct(
      ctx.rt,
      rows,
      this.units,
      this.inFeatures,
      { ptr: x, rowStride: this.inFeatures, colStride: 1 },
      { ptr: this.kernel.ptr, rowStride: this.units, colStride: 1 },
      this.bias ? this.bias.ptr : null,
      { ptr: this.z, rowStride: this.units, colStride: 1 },
      epilogue ?? 'linear',
      this.name,
    );
    if (epilogue !== undefined) {
      this.y = this.z;
      return this.y;
    }
    this.y = ctx.alloc(n);
    activationForward(ctx.rt, this.activation, rows, this.units, this.z, this.y);
    return this.y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    const { rt } = ctx;
    const rows = this.rows(batch);
    const [inF, units] = [this.inFeatures, this.units];
    let dz = dy;
    if (this.activation.name !== 'linear' && !this.activationInLoss) {
      dz = ctx.alloc(rows * units);
      activationBackward(rt, this.activation, rows, units, this.z, this.y, dy, dz);
    }
    if (this.kernel.trainable && this.trainable) {
      // dW = xᵀ·dz: A = x read transposed through its strides.
      gemm(
        rt,
        inF,
        units,
        rows,
        1,
        { ptr: this.x, rowStride: 1, colStride: inF },
        { ptr: dz, rowStride: units, colStride: 1 },
        0,
        { ptr: this.kernel.grad, rowStride: units, colStride: 1 },
        this.name,
      );
      if (this.bias) sumRows(rt, rows, units, dz, this.bias.grad, {}, this.name);
    }
    if (!needDx) return 0;
    // dx = dz·Wᵀ: B = W read transposed through its strides.
    const dx = ctx.alloc(rows * inF);
    gemm(
      rt,
      rows,
      inF,
      units,
      1,
      { ptr: dz, rowStride: units, colStride: 1 },
      { ptr: this.kernel.ptr, rowStride: 1, colStride: units },
      0,
      { ptr: dx, rowStride: inF, colStride: 1 },
      this.name,
    );
    return dx;
  }

  getConfig(): Record<string, unknown> {
    return {
      units: this.units,
      activation: activationConfig(this.activation),
      useBias: this.useBias,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: this.kernelRegularizer ? { className: 'L1L2', config: { ...this.kernelRegularizer } } : null,
      biasRegularizer: this.biasRegularizer ? { className: 'L1L2', config: { ...this.biasRegularizer } } : null,
    };
  }
}

/** Applies an activation function elementwise (softmax: over the last axis). */
export class ActivationLayer extends Layer {
  readonly className = 'Activation';
  readonly activation: Activation;
  /** Set by the model when the loss applies this activation itself (see Dense). */
  activationInLoss = false;
  private x = 0;
  private y = 0;

  constructor(args: LayerArgs & { activation: ActivationIdentifier }) {
    super(args, 'activation');
    this.activation = getActivation(args?.activation, this.name);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  private dims(batch: number): [number, number] {
    const shape = this.inputShape as number[];
    const cols = shape[shape.length - 1] ?? 1;
    return [(batch * shape.reduce((a, b) => a * b, 1)) / cols, cols];
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    this.x = x;
    if (this.activation.name === 'linear' || (this.activationInLoss && ctx.lossAppliesActivation)) {
      this.y = x;
      return x;
    }
    const [rows, cols] = this.dims(batch);
    this.y = ctx.alloc(rows * cols);
    activationForward(ctx.rt, this.activation, rows, cols, x, this.y);
    return this.y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    if (this.activation.name === 'linear' || this.activationInLoss) return dy;
    const [rows, cols] = this.dims(batch);
    const dx = ctx.alloc(rows * cols);
    activationBackward(ctx.rt, this.activation, rows, cols, this.x, this.y, dy, dx);
    return dx;
  }

  getConfig(): Record<string, unknown> {
    return { activation: activationConfig(this.activation) };
  }
}
