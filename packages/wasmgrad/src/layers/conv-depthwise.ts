import { ValueError } from '../errors.js';
import { getInitializer, type Initializer, initializerConfig } from '../initializers/initializers.js';
import { getRegularizer, type Regularizer } from '../regularizers/regularizers.js';
import {
  type Conv2dGeometry,
  conv2dBackwardBias,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  conv2dGeometry,
  conv2dWorkspaceLength,
  convSizes,
  depthwiseConv2dBackwardFilter,
  depthwiseConv2dBackwardInput,
  depthwiseConv2dForward,
  depthwiseConv2dGeometry,
} from '../runtime/kernels/conv.js';
import {
  type Activation,
  activationBackward,
  activationConfig,
  activationForward,
  getActivation,
} from './activations.js';
import type { Conv2DArgs } from './conv.js';
import { checkImageShape, layerPadding, size2 } from './conv-geometry.js';
import { Layer, type LayerWeight, type StepContext } from './layer.js';

/** Options of {@link DepthwiseConv2D}, as in tfjs-layers. */
export interface DepthwiseConv2DArgs extends Omit<Conv2DArgs, 'filters' | 'kernelInitializer' | 'kernelRegularizer'> {
  /** Output channels per input channel (default 1). */
  depthMultiplier?: number;
  /** Default glorotUniform. */
  depthwiseInitializer?: Initializer | string;
  depthwiseRegularizer?: Regularizer;
}

/** Options of {@link SeparableConv2D}, as in tfjs-layers. */
export interface SeparableConv2DArgs extends DepthwiseConv2DArgs {
  /** Output channels of the pointwise (1×1) convolution. */
  filters: number;
  /** Default glorotUniform. */
  pointwiseInitializer?: Initializer | string;
  pointwiseRegularizer?: Regularizer;
}

/**
 * Depthwise 2-D convolution (each input channel convolved with its own `depthMultiplier` filters,
 * output channel c·multiplier + m), and — when `filters` is given — the separable convolution that
 * follows it with a pointwise 1×1 convolution to `filters` channels. NHWC; the depthwise kernel is
 * [kh, kw, C, multiplier], the pointwise kernel [1, 1, C·multiplier, filters].
 */
export class DepthwiseConv2D extends Layer {
  readonly className: string = 'DepthwiseConv2D';
  readonly kernelSize: [number, number];
  readonly depthMultiplier: number;
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: [number, number];
  readonly activation: Activation;
  readonly useBias: boolean;
  readonly depthwiseInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly depthwiseRegularizer: Regularizer | undefined;
  readonly biasRegularizer: Regularizer | undefined;
  /** Pointwise output channels (separable), or 0 for a plain depthwise convolution. */
  protected readonly pointwiseFilters: number = 0;
  protected pointwiseInitializer: Initializer | undefined;
  protected pointwiseRegularizer: Regularizer | undefined;
  private depthwise!: LayerWeight;
  private pointwise: LayerWeight | undefined;
  private bias: LayerWeight | undefined;
  private geometry: Conv2dGeometry | undefined;
  private pointGeometry: Conv2dGeometry | undefined;
  private workLength = 0;
  private x = 0;
  private d = 0;
  private z = 0;
  private y = 0;

  constructor(args: DepthwiseConv2DArgs, prefix = 'depthwise_conv2d', filters = 0) {
    super(args, prefix);
    if (args?.kernelSize === undefined) throw new ValueError(this.name, 'kernelSize is required');
    this.kernelSize = size2(this.name, 'kernelSize', args.kernelSize, 1);
    const mult = args.depthMultiplier ?? 1;
    if (!Number.isSafeInteger(mult) || mult <= 0) {
      throw new ValueError(this.name, `depthMultiplier must be a positive integer, got ${args.depthMultiplier}`);
    }
    this.depthMultiplier = mult;
    this.pointwiseFilters = filters;
    this.strides = size2(this.name, 'strides', args.strides, 1);
    this.dilationRate = size2(this.name, 'dilationRate', args.dilationRate, 1);
    this.padding = layerPadding(this.name, args.padding);
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer, 'glorotUniform', this.name);
    this.biasInitializer = getInitializer(args.biasInitializer, 'zeros', this.name);
    this.depthwiseRegularizer = getRegularizer(args.depthwiseRegularizer);
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
  }

  /** Channels after the whole layer. */
  private get outChannels(): number {
    const c = (this.inputShape as number[])[2] as number;
    return this.pointwiseFilters || c * this.depthMultiplier;
  }

  private geometries(inputShape: readonly number[], batch: number): [Conv2dGeometry, Conv2dGeometry | undefined] {
    const [h, w, c] = checkImageShape(this.name, inputShape);
    const g = depthwiseConv2dGeometry(
      [batch, h, w, c],
      [this.kernelSize[0], this.kernelSize[1], c, this.depthMultiplier],
      { strides: this.strides, padding: this.padding, dilations: this.dilationRate },
      this.name,
    );
    if (!this.pointwiseFilters) return [g, undefined];
    const p = conv2dGeometry(
      [batch, g.outHeight, g.outWidth, g.outChannels],
      [1, 1, g.outChannels, this.pointwiseFilters],
      {},
      this.name,
    );
    return [g, p];
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [g, p] = this.geometries(inputShape, 1);
    return [g.outHeight, g.outWidth, p ? p.outChannels : g.outChannels];
  }

  protected override declareWeights(inputShape: readonly number[]): void {
    const c = inputShape[2] as number;
    this.depthwise = this.addWeight(
      'depthwise_kernel',
      [this.kernelSize[0], this.kernelSize[1], c, this.depthMultiplier],
      this.depthwiseInitializer,
      this.depthwiseRegularizer,
    );
    if (this.pointwiseFilters) {
      this.pointwise = this.addWeight(
        'pointwise_kernel',
        [1, 1, c * this.depthMultiplier, this.pointwiseFilters],
        this.pointwiseInitializer as Initializer,
        this.pointwiseRegularizer,
      );
    }
    if (this.useBias)
      this.bias = this.addWeight('bias', [this.outChannels], this.biasInitializer, this.biasRegularizer);
  }

  private geometryOf(ctx: StepContext, batch: number): [Conv2dGeometry, Conv2dGeometry | undefined] {
    if (this.geometry?.batch !== batch) {
      [this.geometry, this.pointGeometry] = this.geometries(this.inputShape as number[], batch);
      this.workLength = this.pointGeometry ? conv2dWorkspaceLength(ctx.rt, this.pointGeometry) : 0;
    }
    return [this.geometry, this.pointGeometry];
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const { rt } = ctx;
    const [g, p] = this.geometryOf(ctx, batch);
    const bias = this.bias ? this.bias.ptr : 0;
    this.x = x;
    this.d = ctx.alloc(convSizes(g).y);
    depthwiseConv2dForward(rt, g, x, this.depthwise.ptr, p ? 0 : bias, this.d, this.name);
    this.z = this.d;
    if (p) {
      this.z = ctx.alloc(convSizes(p).y);
      const work = ctx.alloc(this.workLength);
      conv2dForward(rt, p, this.d, (this.pointwise as LayerWeight).ptr, bias, this.z, work, this.name);
    }
    const n = convSizes(p ?? g).y;
    if (this.activation.name === 'linear') {
      this.y = this.z;
      return this.y;
    }
    this.y = ctx.training ? ctx.alloc(n) : this.z;
    activationForward(rt, this.activation, n / this.outChannels, this.outChannels, this.z, this.y);
    return this.y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    const { rt } = ctx;
    const [g, p] = this.geometryOf(ctx, batch);
    const out = convSizes(p ?? g);
    const train = this.depthwise.trainable && this.trainable;
    let dz = dy;
    if (this.activation.name !== 'linear') {
      dz = ctx.alloc(out.y);
      activationBackward(rt, this.activation, out.rows, this.outChannels, this.z, this.y, dy, dz);
    }
    if (train && this.bias) conv2dBackwardBias(rt, dz, out.rows, this.outChannels, this.bias.grad, this.name);
    let dd = dz;
    if (p) {
      const pw = this.pointwise as LayerWeight;
      const work = ctx.alloc(this.workLength);
      if (train) conv2dBackwardFilter(rt, p, this.d, dz, pw.grad, work, this.name);
      dd = ctx.alloc(convSizes(g).y);
      conv2dBackwardInput(rt, p, dz, pw.ptr, dd, work, this.name);
    }
    if (train) depthwiseConv2dBackwardFilter(rt, g, this.x, dd, this.depthwise.grad, this.name);
    if (!needDx) return 0;
    const dx = ctx.alloc(convSizes(g).x);
    depthwiseConv2dBackwardInput(rt, g, dd, this.depthwise.ptr, dx, this.name);
    return dx;
  }

  getConfig(): Record<string, unknown> {
    return {
      kernelSize: [...this.kernelSize],
      depthMultiplier: this.depthMultiplier,
      strides: [...this.strides],
      padding: this.padding,
      dilationRate: [...this.dilationRate],
      activation: activationConfig(this.activation),
      useBias: this.useBias,
      depthwiseInitializer: initializerConfig(this.depthwiseInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      depthwiseRegularizer: regularizerConfig(this.depthwiseRegularizer),
      biasRegularizer: regularizerConfig(this.biasRegularizer),
    };
  }
}

/** Depthwise convolution followed by a pointwise 1×1 convolution to `filters` channels (tfjs separableConv2d). */
export class SeparableConv2D extends DepthwiseConv2D {
  override readonly className = 'SeparableConv2D';
  readonly filters: number;

  constructor(args: SeparableConv2DArgs) {
    const filters = args?.filters;
    super(args, 'separable_conv2d', Number.isSafeInteger(filters) && filters > 0 ? filters : 1);
    if (!Number.isSafeInteger(filters) || filters <= 0) {
      throw new ValueError(this.name, `filters must be a positive integer, got ${filters}`);
    }
    this.filters = filters;
    this.pointwiseInitializer = getInitializer(args.pointwiseInitializer, 'glorotUniform', this.name);
    this.pointwiseRegularizer = getRegularizer(args.pointwiseRegularizer);
  }

  override getConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      ...super.getConfig(),
      pointwiseInitializer: initializerConfig(this.pointwiseInitializer as Initializer),
      pointwiseRegularizer: regularizerConfig(this.pointwiseRegularizer),
    };
  }
}

function regularizerConfig(r: Regularizer | undefined): Record<string, unknown> | null {
  return r ? { className: 'L1L2', config: { ...r } } : null;
}
