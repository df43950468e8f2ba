import { ValueError } from '../errors.js';
import { getInitializer, type Initializer, initializerConfig } from '../initializers/initializers.js';
import { getRegularizer, type Regularizer } from '../regularizers/regularizers.js';
import {
  type Conv2dGeometry,
  conv2dBackwardBias,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  conv2dForwardMaxPool2,
  conv2dGeometry,
  conv2dMaxPool2Size,
  conv2dMaxPool2WorkspaceLength,
  conv2dWorkspaceLength,
  convSizes,
} from '../runtime/kernels/conv.js';
import {
  type Activation,
  type ActivationIdentifier,
  activationBackward,
  activationConfig,
  activationForward,
  getActivation,
} from './activations.js';
import { checkImageShape, layerPadding, type Size2, size2 } from './conv-geometry.js';
import { Layer, type LayerArgs, type LayerWeight, type StepContext } from './layer.js';
import type { MaxPooling2D } from './pooling.js';

export {
  DepthwiseConv2D,
  type DepthwiseConv2DArgs,
  SeparableConv2D,
  type SeparableConv2DArgs,
} from './conv-depthwise.js';
export type { Size2 } from './conv-geometry.js';

/** Options of {@link Conv2D}, as in tfjs-layers (NHWC, HWIO kernel). */
export interface Conv2DArgs extends LayerArgs {
  /** Number of output channels. */
  filters: number;
  /** Window size [height, width] (or one number for both). */
  kernelSize: Size2;
  /** Default 1. */
  strides?: Size2;
  /** 'valid' (default) or 'same' (TensorFlow's split, the extra cell at the end). */
  padding?: 'valid' | 'same';
  /** Default 1. */
  dilationRate?: Size2;
  /** Applied to conv(x) + b (default linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias per filter (default true). */
  useBias?: boolean;
  /** Default glorotUniform. */
  kernelInitializer?: Initializer | string;
  /** Default zeros. */
  biasInitializer?: Initializer | string;
  kernelRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
}

/**
 * 2-D convolution over NHWC images with an HWIO kernel: y = activation(conv2d(x, W) + b).
 * Forward and both backward passes are the kernels of runtime/kernels/conv.ts; the forward kernel
 * adds the bias and applies linear, relu and relu6 in its store (other activations run
 * elementwise afterwards). For relu and relu6 the derivative is the same function of the output
 * as of the input (y > 0 ⇔ x > 0, 0 < y < 6 ⇔ 0 < x < 6), so the fused forward keeps only y.
 */
export class Conv2D extends Layer {
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: [number, number];
  readonly activation: Activation;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | undefined;
  readonly biasRegularizer: Regularizer | undefined;
  private kernel!: LayerWeight;
  private bias: LayerWeight | undefined;
  private geometry: Conv2dGeometry | undefined;
  private workLength = 0;
  private pooledWorkLength = -1;
  private x = 0;
  private z = 0;
  private y = 0;

  constructor(args: Conv2DArgs) {
    super(args, 'conv2d');
    if (!Number.isSafeInteger(args?.filters) || args.filters <= 0) {
      throw new ValueError(this.name, `filters must be a positive integer, got ${args?.filters}`);
    }
    this.filters = args.filters;
    if (args.kernelSize === undefined) throw new ValueError(this.name, 'kernelSize is required');
    this.kernelSize = size2(this.name, 'kernelSize', args.kernelSize, 1);
    this.strides = size2(this.name, 'strides', args.strides, 1);
    this.dilationRate = size2(this.name, 'dilationRate', args.dilationRate, 1);
    this.padding = layerPadding(this.name, args.padding);
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer, 'glorotUniform', this.name);
    this.biasInitializer = getInitializer(args.biasInitializer, 'zeros', this.name);
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer);
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
  }

  private geometryFor(inputShape: readonly number[], batch: number): Conv2dGeometry {
    const [h, w, c] = checkImageShape(this.name, inputShape);
    return conv2dGeometry(
      [batch, h, w, c],
      [this.kernelSize[0], this.kernelSize[1], c, this.filters],
      { strides: this.strides, padding: this.padding, dilations: this.dilationRate },
      this.name,
    );
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const g = this.geometryFor(inputShape, 1);
    return [g.outHeight, g.outWidth, this.filters];
  }

  protected override declareWeights(inputShape: readonly number[]): void {
    const c = inputShape[2] as number;
    this.kernel = this.addWeight(
      'kernel',
      [this.kernelSize[0], this.kernelSize[1], c, this.filters],
      this.kernelInitializer,
      this.kernelRegularizer,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInitializer, this.biasRegularizer);
  }

  /** The geometry for `batch` samples (cached: batch sizes rarely change). */
  private geometryOf(ctx: StepContext, batch: number): Conv2dGeometry {
    if (this.geometry?.batch !== batch) {
      this.geometry = this.geometryFor(this.inputShape as number[], batch);
      this.workLength = conv2dWorkspaceLength(ctx.rt, this.geometry);
      this.pooledWorkLength = -1;
    }
    return this.geometry;
  }

  /** Whether {@link forwardMaxPool2} may stand for this layer followed by `pool`. */
  fusesMaxPool2(pool: MaxPooling2D): boolean {
    const act = this.activation.name;
    return (act === 'linear' || act === 'relu' || act === 'relu6') && pool.isPlain2x2();
  }

  /**
   * Inference only: this layer and a following 2×2, stride-2 max pooling in one kernel, which
   * pools each window as it computes it instead of storing the whole conv output (bit-equal to
   * running the two layers). Keeps nothing for backward.
   */
  forwardMaxPool2(ctx: StepContext, x: number, batch: number): number {
    const g = this.geometryOf(ctx, batch);
    if (this.pooledWorkLength < 0) this.pooledWorkLength = conv2dMaxPool2WorkspaceLength(ctx.rt, g);
    const y = ctx.alloc(conv2dMaxPool2Size(g));
    const work = ctx.alloc(this.pooledWorkLength);
    const bias = this.bias ? this.bias.ptr : 0;
    const act = this.activation.name as 'linear' | 'relu' | 'relu6';
    conv2dForwardMaxPool2(ctx.rt, g, x, this.kernel.ptr, bias, y, work, this.name, act);
    return y;
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const g = this.geometryOf(ctx, batch);
    const n = convSizes(g).y;
    this.x = x;
    this.z = ctx.alloc(n);
    const work = ctx.alloc(this.workLength);
    const act = this.activation.name;
    const fused = act === 'linear' || act === 'relu' || act === 'relu6';
    const bias = this.bias ? this.bias.ptr : 0;
    conv2dForward(ctx.rt, g, x, this.kernel.ptr, bias, this.z, work, this.name, fused ? act : 'linear');
    if (fused) {
      this.y = this.z;
      return this.y;
    }
    // Inference needs no pre-activation for a backward pass: apply the activation in place.
    this.y = ctx.training ? ctx.alloc(n) : this.z;
    activationForward(ctx.rt, this.activation, n / this.filters, this.filters, this.z, this.y);
    return this.y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    const { rt } = ctx;
    const g = this.geometryOf(ctx, batch);
    const s = convSizes(g);
    let dz = dy;
    if (this.activation.name !== 'linear') {
      dz = ctx.alloc(s.y);
      activationBackward(rt, this.activation, s.rows, this.filters, this.z, this.y, dy, dz);
    }
    const work = ctx.alloc(this.workLength);
    if (this.kernel.trainable && this.trainable) {
      conv2dBackwardFilter(rt, g, this.x, dz, this.kernel.grad, work, this.name);
      if (this.bias) conv2dBackwardBias(rt, dz, s.rows, this.filters, this.bias.grad, this.name);
    }
    if (!needDx) return 0;
    const dx = ctx.alloc(s.x);
    conv2dBackwardInput(rt, g, dz, this.kernel.ptr, dx, work, this.name);
    return dx;
  }

  getConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dilationRate: [...this.dilationRate],
      activation: activationConfig(this.activation),
      useBias: this.useBias,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: this.kernelRegularizer ? { className: 'L1L2', config: { ...this.kernelRegularizer } } : null,
      biasRegularizer: this.biasRegularizer ? { className: 'L1L2', config: { ...this.biasRegularizer } } : null,
    };
  }
}
