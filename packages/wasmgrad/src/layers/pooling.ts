import type { Conv2dGeometry } from '../runtime/kernels/conv.js';
import {
  avgPool2dBackward,
  avgPool2dForward,
  globalAvgPool2dBackward,
  globalAvgPool2dForward,
  maxPool2dBackward,
  maxPool2dForward,
  pool2dGeometry,
} from '../runtime/kernels/pool.js';
import { checkImageShape, layerPadding, type Size2, size2 } from './conv-geometry.js';
import { Layer, type LayerArgs, type StepContext } from './layer.js';

/** Options of {@link MaxPooling2D} and {@link AveragePooling2D}, as in tfjs-layers. */
export interface Pooling2DArgs extends LayerArgs {
  /** Window [height, width] (or one number for both); default 2. */
  poolSize?: Size2;
  /** Default: the pool size. */
  strides?: Size2;
  /** 'valid' (default) or 'same'. */
  padding?: 'valid' | 'same';
}

/** Shared part of max and average pooling over NHWC images. */
abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  protected geometry: Conv2dGeometry | undefined;

  constructor(args: Pooling2DArgs, prefix: string) {
    super(args ?? {}, prefix);
    this.poolSize = size2(this.name, 'poolSize', args?.poolSize, 2);
    this.strides = args?.strides === undefined ? [...this.poolSize] : size2(this.name, 'strides', args.strides, 1);
    this.padding = layerPadding(this.name, args?.padding);
  }

  protected geometryFor(inputShape: readonly number[], batch: number): Conv2dGeometry {
    const [h, w, c] = checkImageShape(this.name, inputShape);
    return pool2dGeometry(
      [batch, h, w, c],
      { poolSize: this.poolSize, strides: this.strides, padding: this.padding },
      this.name,
    );
  }

  protected geometryOf(batch: number): Conv2dGeometry {
    if (this.geometry?.batch !== batch) this.geometry = this.geometryFor(this.inputShape as number[], batch);
    return this.geometry;
  }

  protected static counts(g: Conv2dGeometry): { x: number; y: number } {
    return {
      x: g.batch * g.inHeight * g.inWidth * g.inChannels,
      y: g.batch * g.outHeight * g.outWidth * g.inChannels,
    };
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const g = this.geometryFor(inputShape, 1);
    return [g.outHeight, g.outWidth, g.inChannels];
  }

  getConfig(): Record<string, unknown> {
    return { poolSize: [...this.poolSize], strides: [...this.strides], padding: this.padding };
  }
}

/**
 * Max over each window. Training keeps the winners' indices (an i32 per output) so that backward
 * scatters dy without looking at x again; inference skips them.
 */
export class MaxPooling2D extends Pooling2D {
  readonly className = 'MaxPooling2D';
  private argmax = 0;

  constructor(args: Pooling2DArgs = {}) {
    super(args, 'max_pooling2d');
  }

  /**
   * A 2×2 window with stride 2 that reads no padding for its (built) input: 'valid', or 'same'
   * over even sizes. A conv2d before it can then pool as it computes (inference fusion).
   */
  isPlain2x2(): boolean {
    const [h, w] = this.inputShape ?? [];
    const even = (h as number) % 2 === 0 && (w as number) % 2 === 0;
    const [ph, pw] = this.poolSize;
    const [sh, sw] = this.strides;
    return this.built && ph === 2 && pw === 2 && sh === 2 && sw === 2 && (this.padding === 'valid' || even);
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const g = this.geometryOf(batch);
    const n = Pooling2D.counts(g).y;
    const y = ctx.alloc(n);
    this.argmax = ctx.training ? ctx.alloc(n) : 0;
    maxPool2dForward(ctx.rt, g, x, y, this.argmax, this.name);
    return y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    const g = this.geometryOf(batch);
    const dx = ctx.alloc(Pooling2D.counts(g).x);
    maxPool2dBackward(ctx.rt, g, dy, this.argmax, dx, this.name);
    return dx;
  }
}

/** Mean over each window's cells inside the image (padding cells are not counted, as in TensorFlow). */
export class AveragePooling2D extends Pooling2D {
  readonly className = 'AveragePooling2D';

  constructor(args: Pooling2DArgs = {}) {
    super(args, 'average_pooling2d');
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const g = this.geometryOf(batch);
    const y = ctx.alloc(Pooling2D.counts(g).y);
    avgPool2dForward(ctx.rt, g, x, y, this.name);
    return y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    const g = this.geometryOf(batch);
    const dx = ctx.alloc(Pooling2D.counts(g).x);
    avgPool2dBackward(ctx.rt, g, dy, dx, this.name);
    return dx;
  }
}

/** Mean over all pixels of each channel: [h, w, c] → [c]. */
export class GlobalAveragePooling2D extends Layer {
  readonly className = 'GlobalAveragePooling2D';

  constructor(args: LayerArgs = {}) {
    super(args ?? {}, 'global_average_pooling2d');
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [, , c] = checkImageShape(this.name, inputShape);
    return [c];
  }

  private xShape(batch: number): number[] {
    return [batch, ...(this.inputShape as number[])];
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const y = ctx.alloc(batch * (this.outputShape[0] as number));
    globalAvgPool2dForward(ctx.rt, this.xShape(batch), x, y, this.name);
    return y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    const shape = this.xShape(batch);
    const dx = ctx.alloc(shape.reduce((a, b) => a * b, 1));
    globalAvgPool2dBackward(ctx.rt, shape, dy, dx, this.name);
    return dx;
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}
