import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { nextSeed } from '../random.js';
import { dropout, dropoutBackward } from '../runtime/kernels/random.js';
import { Layer, type LayerArgs, type StepContext } from './layer.js';

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Flattens each sample to one axis: [h, w, c] → [h·w·c]. Same memory, no copy. */
export class Flatten extends Layer {
  readonly className = 'Flatten';

  constructor(args: LayerArgs = {}) {
    super(args ?? {}, 'flatten');
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length === 0)
      throw new ShapeError(this.name, `needs an input of rank ≥ 1 per sample, got ${fmtShape(inputShape)}`);
    return [product(inputShape)];
  }

  forward(_ctx: StepContext, x: number, _batch: number): number {
    return x;
  }

  backward(_ctx: StepContext, dy: number, _batch: number, needDx: boolean): number {
    return needDx ? dy : 0;
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Reshapes each sample to `targetShape` (one entry may be -1, inferred). Same memory, no copy. */
export class Reshape extends Layer {
  readonly className = 'Reshape';
  readonly targetShape: number[];

  constructor(args: LayerArgs & { targetShape: number[] }) {
    super(args ?? {}, 'reshape');
    const t = args?.targetShape;
    if (
      !Array.isArray(t) ||
      t.some((d) => !Number.isSafeInteger(d) || (d < 1 && d !== -1)) ||
      t.filter((d) => d === -1).length > 1
    ) {
      throw new ValueError(
        this.name,
        `targetShape must be positive integers with at most one -1, got ${JSON.stringify(t)}`,
      );
    }
    this.targetShape = [...t];
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const size = product(inputShape);
    const known = product(this.targetShape.filter((d) => d !== -1));
    const unknown = this.targetShape.indexOf(-1);
    if (unknown >= 0) {
      if (size % known !== 0) {
        throw new ShapeError(
          this.name,
          `cannot reshape ${fmtShape(inputShape)} (${size} values) to ${fmtShape(this.targetShape)}`,
        );
      }
      const out = [...this.targetShape];
      out[unknown] = size / known;
      return out;
    }
    if (known !== size) {
      throw new ShapeError(
        this.name,
        `cannot reshape ${fmtShape(inputShape)} (${size} values) to ${fmtShape(this.targetShape)} (${known} values)`,
      );
    }
    return [...this.targetShape];
  }

  forward(_ctx: StepContext, x: number, _batch: number): number {
    return x;
  }

  backward(_ctx: StepContext, dy: number, _batch: number, needDx: boolean): number {
    return needDx ? dy : 0;
  }

  getConfig(): Record<string, unknown> {
    return { targetShape: [...this.targetShape] };
  }
}

/** Options of {@link Dropout}. */
export interface DropoutArgs extends LayerArgs {
  /** Fraction of inputs dropped during training, in [0, 1). */
  rate: number;
  /** Seed of the masks (default: drawn from the global seed sequence when the layer is made). */
  seed?: number;
}

/**
 * Inverted dropout: in training each value is zeroed with probability `rate` and the others scaled
 * by 1/(1 − rate); inference (predict, evaluate) passes the input through. The mask of a step is a
 * pure function of (fit seed, layer seed, step): it is never stored, backward regenerates it.
 */
export class Dropout extends Layer {
  readonly className = 'Dropout';
  readonly rate: number;
  readonly seed: number | undefined;
  private readonly layerSeed: number;
  private active = false;
  private key = { seed: 0, stream: 0, offset: 0 };

  constructor(args: DropoutArgs) {
    super(args ?? ({} as DropoutArgs), 'dropout');
    const rate = args?.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && Math.fround(rate) < 1)) {
      throw new ValueError(this.name, `rate must be a number in [0, 1), got ${rate}`);
    }
    if (args.seed !== undefined && (!Number.isSafeInteger(args.seed) || args.seed < 0)) {
      throw new ValueError(this.name, `seed must be a non-negative integer, got ${args.seed}`);
    }
    this.rate = rate;
    this.seed = args.seed;
    this.layerSeed = (args.seed ?? nextSeed()) >>> 0;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    this.active = ctx.training && this.rate > 0;
    if (!this.active) return x;
    // Key: the layer seed (upper bits) with the fit seed (lower 21 bits), one stream per step.
    this.key = {
      seed: this.layerSeed * 2 ** 21 + (Math.abs(Math.trunc(ctx.seed)) % 2 ** 21),
      stream: ctx.step % 2 ** 32,
      offset: 0,
    };
    const n = batch * product(this.inputShape as number[]);
    const y = ctx.alloc(n);
    dropout(ctx.rt, n, x, y, this.rate, this.key, this.name);
    return y;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    if (!this.active) return dy;
    const n = batch * product(this.inputShape as number[]);
    const dx = ctx.alloc(n);
    dropoutBackward(ctx.rt, n, dy, dx, this.rate, this.key, this.name);
    return dx;
  }

  getConfig(): Record<string, unknown> {
    // The seed actually used (drawn when none was given), so a copy (a worker, a saved model) draws
    // the same masks.
    return { rate: this.rate, seed: this.layerSeed };
  }
}
