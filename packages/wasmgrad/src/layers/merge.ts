/**
 * Merge layers of the functional API (tfjs-layers names): add, subtract, multiply, average,
 * maximum, minimum over inputs of one shape, and concatenate along an axis. They take several
 * inputs through {@link Layer.buildMulti}/{@link Layer.forwardMulti}/{@link Layer.backwardMulti}.
 * @module
 */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { broadcastBinary, scale } from '../runtime/kernels/elementwise.js';
import { Layer, type LayerArgs, type StepContext } from './layer.js';

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Base of merge layers: several inputs, one output; they hold no weights. */
export abstract class Merge extends Layer {
  /** Input buffers of the last forward (backward reads them). */
  protected xs: number[] = [];
  /** The last forward output. */
  protected y = 0;

  /** The output shape for these input shapes, or a ShapeError naming the layer and the shapes. */
  protected abstract mergeShapes(shapes: readonly (readonly number[])[]): number[];

  /** Fewest inputs the layer takes (2). */
  protected readonly minInputs: number = 2;
  /** Most inputs the layer takes. */
  protected readonly maxInputs: number = Number.POSITIVE_INFINITY;

  override buildMulti(inputShapes: readonly (readonly number[])[]): void {
    const n = inputShapes.length;
    if (n < this.minInputs || n > this.maxInputs) {
      const want = this.maxInputs === this.minInputs ? `${this.minInputs}` : `at least ${this.minInputs}`;
      throw new ShapeError(this.name, `takes ${want} inputs, got ${n}`);
    }
    const shapes = inputShapes.map((s) => [...s]);
    if (this.built) {
      const same =
        this.inputShapes?.length === n && shapes.every((s, i) => fmtShape(s) === fmtShape(this.inputShapes?.[i] ?? []));
      if (!same) {
        throw new ShapeError(
          this.name,
          `was built for inputs ${(this.inputShapes ?? []).map(fmtShape).join(', ')}, got ${shapes.map(fmtShape).join(', ')}`,
        );
      }
      return;
    }
    this.outputShape = this.mergeShapes(shapes);
    this.outputShapes = [this.outputShape];
    this.inputShapes = shapes;
    this.inputShape = shapes[0];
    this.built = true;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    throw new ShapeError(
      this.name,
      `merges several inputs; it got one of shape ${fmtShape(inputShape)} (use it in a functional model: layer.apply([a, b]))`,
    );
  }

  forward(_ctx: StepContext, _x: number, _batch: number): number {
    throw new ValueError(this.name, 'merges several inputs: call forwardMulti');
  }

  backward(_ctx: StepContext, _dy: number, _batch: number, _needDx: boolean): number {
    throw new ValueError(this.name, 'merges several inputs: call backwardMulti');
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Elementwise merges: every input has the output's shape. */
abstract class ElementwiseMerge extends Merge {
  protected mergeShapes(shapes: readonly (readonly number[])[]): number[] {
    const first = shapes[0] as readonly number[];
    if (shapes.some((s) => fmtShape(s) !== fmtShape(first))) {
      throw new ShapeError(this.name, `needs inputs of one shape, got ${shapes.map(fmtShape).join(', ')}`);
    }
    return [...first];
  }

  /** Values per batch of `batch` samples. */
  protected size(batch: number): number {
    return batch * product(this.outputShape);
  }
}

/** y = x₀ + x₁ + …; every input's gradient is dy (the same buffer, not copied). */
export class Add extends ElementwiseMerge {
  readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super(args ?? {}, 'add');
  }

  override forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    const n = this.size(batch);
    const y = ctx.alloc(n);
    broadcastBinary(ctx.rt, 'add', 1, n, xs[0] as number, xs[1] as number, 'full', y);
    for (let k = 2; k < xs.length; k++) broadcastBinary(ctx.rt, 'add', 1, n, y, xs[k] as number, 'full', y);
    return [y];
  }

  override backwardMulti(_ctx: StepContext, dys: readonly number[], _batch: number, needDx: boolean): number[] {
    const dy = dys[0] as number;
    return (this.inputShapes ?? []).map(() => (needDx ? dy : 0));
  }
}

/** y = x₀ − x₁ (exactly two inputs). */
export class Subtract extends ElementwiseMerge {
  readonly className = 'Subtract';
  protected override readonly maxInputs = 2;
  constructor(args: LayerArgs = {}) {
    super(args ?? {}, 'subtract');
  }

  override forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    const n = this.size(batch);
    const y = ctx.alloc(n);
    broadcastBinary(ctx.rt, 'sub', 1, n, xs[0] as number, xs[1] as number, 'full', y);
    return [y];
  }

  override backwardMulti(ctx: StepContext, dys: readonly number[], batch: number, needDx: boolean): number[] {
    if (!needDx) return [0, 0];
    const n = this.size(batch);
    const dy = dys[0] as number;
    const neg = ctx.alloc(n);
    scale(ctx.rt, n, dy, -1, 0, neg, this.name);
    return [dy, neg];
  }
}

/** y = (x₀ + x₁ + …) / N; every input's gradient is dy / N. */
export class Average extends ElementwiseMerge {
  readonly className = 'Average';
  constructor(args: LayerArgs = {}) {
    super(args ?? {}, 'average');
  }

  override forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    const n = this.size(batch);
    const y = ctx.alloc(n);
    broadcastBinary(ctx.rt, 'add', 1, n, xs[0] as number, xs[1] as number, 'full', y);
    for (let k = 2; k < xs.length; k++) broadcastBinary(ctx.rt, 'add', 1, n, y, xs[k] as number, 'full', y);
    scale(ctx.rt, n, y, 1 / xs.length, 0, y, this.name);
    return [y];
  }

  override backwardMulti(ctx: StepContext, dys: readonly number[], batch: number, needDx: boolean): number[] {
    const count = (this.inputShapes ?? []).length;
    if (!needDx) return new Array<number>(count).fill(0);
    const n = this.size(batch);
    const dx = ctx.alloc(n);
    scale(ctx.rt, n, dys[0] as number, 1 / count, 0, dx, this.name);
    return new Array<number>(count).fill(dx);
  }
}

/** y = x₀ ⊙ x₁ ⊙ …; input k's gradient is dy times the product of the other inputs. */
export class Multiply extends ElementwiseMerge {
  readonly className = 'Multiply';
  constructor(args: LayerArgs = {}) {
    super(args ?? {}, 'multiply');
  }

  override forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    const n = this.size(batch);
    const y = ctx.alloc(n);
    broadcastBinary(ctx.rt, 'mul', 1, n, xs[0] as number, xs[1] as number, 'full', y);
    for (let k = 2; k < xs.length; k++) broadcastBinary(ctx.rt, 'mul', 1, n, y, xs[k] as number, 'full', y);
    this.xs = [...xs];
    return [y];
  }

  override backwardMulti(ctx: StepContext, dys: readonly number[], batch: number, needDx: boolean): number[] {
    const xs = this.xs;
    if (!needDx) return xs.map(() => 0);
    const n = this.size(batch);
    const dy = dys[0] as number;
    // O(N²) products: merges have few inputs, and dividing y by x_k would fail at zeros.
    return xs.map((_, k) => {
      const dx = ctx.alloc(n);
      let first = true;
      for (let j = 0; j < xs.length; j++) {
        if (j === k) continue;
        broadcastBinary(ctx.rt, 'mul', 1, n, first ? dy : dx, xs[j] as number, 'full', dx);
        first = false;
      }
      return dx;
    });
  }
}

/**
 * Elementwise maximum or minimum; the gradient flows to the input holding the extreme (the first
 * one on ties), as in TensorFlow. Computed on the f32 view (there is no kernel for it yet).
 */
abstract class Extremum extends ElementwiseMerge {
  protected abstract readonly sign: 1 | -1;
  /** Per value, the index of the input that won (kept for backward). */
  private winner = 0;

  override forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    const n = this.size(batch);
    const y = ctx.alloc(n);
    const winner = ctx.alloc(n);
    const f32 = ctx.rt.f32;
    const i32 = ctx.rt.u32;
    const yo = y >>> 2;
    const wo = winner >>> 2;
    f32.copyWithin(yo, (xs[0] as number) >>> 2, ((xs[0] as number) >>> 2) + n);
    i32.fill(0, wo, wo + n);
    for (let k = 1; k < xs.length; k++) {
      const xo = (xs[k] as number) >>> 2;
      for (let i = 0; i < n; i++) {
        const v = f32[xo + i] as number;
        if (this.sign * (v - (f32[yo + i] as number)) > 0) {
          f32[yo + i] = v;
          i32[wo + i] = k;
        }
      }
    }
    this.winner = winner;
    this.xs = [...xs];
    return [y];
  }

  override backwardMulti(ctx: StepContext, dys: readonly number[], batch: number, needDx: boolean): number[] {
    if (!needDx) return this.xs.map(() => 0);
    const n = this.size(batch);
    const dxs = this.xs.map(() => ctx.alloc(n));
    const f32 = ctx.rt.f32;
    const u32 = ctx.rt.u32;
    const dyo = (dys[0] as number) >>> 2;
    const wo = this.winner >>> 2;
    for (const dx of dxs) f32.fill(0, dx >>> 2, (dx >>> 2) + n);
    for (let i = 0; i < n; i++) f32[((dxs[u32[wo + i] as number] as number) >>> 2) + i] = f32[dyo + i] as number;
    return dxs;
  }
}

/** y = max(x₀, x₁, …) elementwise. */
export class Maximum extends Extremum {
  readonly className = 'Maximum';
  protected readonly sign = 1;
  constructor(args: LayerArgs = {}) {
    super(args ?? {}, 'maximum');
  }
}

/** y = min(x₀, x₁, …) elementwise. */
export class Minimum extends Extremum {
  readonly className = 'Minimum';
  protected readonly sign = -1;
  constructor(args: LayerArgs = {}) {
    super(args ?? {}, 'minimum');
  }
}

/** Options of {@link Concatenate}. */
export interface ConcatenateArgs extends LayerArgs {
  /** Axis to join along, counting the batch axis as 0 as tfjs does (default -1, the last). */
  axis?: number;
}

/** Joins its inputs along one axis; all other axes must agree. */
export class Concatenate extends Merge {
  readonly className = 'Concatenate';
  readonly axis: number;
  /** Per input, the contiguous length of one slice (from the joined axis on). */
  private slices: number[] = [];
  /** Number of slices per sample (product of the axes before the joined one). */
  private outer = 1;

  constructor(args: ConcatenateArgs = {}) {
    super(args ?? {}, 'concatenate');
    const axis = args?.axis ?? -1;
    if (!Number.isSafeInteger(axis) || axis === 0) {
      throw new ValueError(this.name, `axis must be a non-zero integer (0 is the batch axis), got ${axis}`);
    }
    this.axis = axis;
  }

  protected mergeShapes(shapes: readonly (readonly number[])[]): number[] {
    const rank = (shapes[0] as readonly number[]).length;
    const axis = this.axis < 0 ? rank + this.axis : this.axis - 1;
    const list = shapes.map(fmtShape).join(', ');
    if (shapes.some((s) => s.length !== rank)) throw new ShapeError(this.name, `needs inputs of one rank, got ${list}`);
    if (axis < 0 || axis >= rank) {
      throw new ShapeError(this.name, `axis ${this.axis} is out of range for inputs ${list} (with the batch axis)`);
    }
    for (let d = 0; d < rank; d++) {
      if (d === axis) continue;
      if (shapes.some((s) => s[d] !== (shapes[0] as readonly number[])[d])) {
        throw new ShapeError(this.name, `inputs must agree on every axis but ${this.axis}, got ${list}`);
      }
    }
    this.outer = product((shapes[0] as readonly number[]).slice(0, axis));
    this.slices = shapes.map((s) => product(s.slice(axis)));
    const out = [...(shapes[0] as readonly number[])];
    out[axis] = shapes.reduce((a, s) => a + (s[axis] as number), 0);
    return out;
  }

  override forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    const width = this.slices.reduce((a, b) => a + b, 0);
    const count = batch * this.outer;
    const y = ctx.alloc(count * width);
    const f32 = ctx.rt.f32;
    let offset = 0;
    for (let k = 0; k < xs.length; k++) {
      const len = this.slices[k] as number;
      const xo = (xs[k] as number) >>> 2;
      for (let r = 0; r < count; r++) {
        f32.copyWithin((y >>> 2) + r * width + offset, xo + r * len, xo + (r + 1) * len);
      }
      offset += len;
    }
    return [y];
  }

  override backwardMulti(ctx: StepContext, dys: readonly number[], batch: number, needDx: boolean): number[] {
    if (!needDx) return this.slices.map(() => 0);
    const width = this.slices.reduce((a, b) => a + b, 0);
    const count = batch * this.outer;
    const dxs = this.slices.map((len) => ctx.alloc(count * len));
    const f32 = ctx.rt.f32;
    const dyo = (dys[0] as number) >>> 2;
    let offset = 0;
    this.slices.forEach((len, k) => {
      const dxo = (dxs[k] as number) >>> 2;
      for (let r = 0; r < count; r++) {
        f32.copyWithin(dxo + r * len, dyo + r * width + offset, dyo + r * width + offset + len);
      }
      offset += len;
    });
    return dxs;
  }

  override getConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
}
