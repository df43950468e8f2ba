import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { getInitializer, type Initializer, initializerConfig } from '../initializers/initializers.js';
import { getRegularizer, type Regularizer } from '../regularizers/regularizers.js';
import { gatherRows } from '../runtime/kernels/gather.js';
import { scatterAddRows } from '../runtime/kernels/rnn.js';
import { Layer, type LayerArgs, type LayerWeight, type StepContext } from './layer.js';

/** Options of {@link embedding}, as in tfjs-layers. */
export interface EmbeddingArgs extends LayerArgs {
  /** Vocabulary size: indices lie in [0, inputDim). */
  inputDim: number;
  /** Size of each embedding vector. */
  outputDim: number;
  /** Default randomUniform (±0.05), as Keras' 'uniform'. */
  embeddingsInitializer?: Initializer | string;
  embeddingsRegularizer?: Regularizer;
  /** Treat index 0 as padding to be masked: not supported (masking is not implemented). */
  maskZero?: boolean;
  /** Sequence length; sets inputShape [inputLength] when no inputShape is given. */
  inputLength?: number;
}

/**
 * Turns integer indices into dense vectors: [batch, …] indices (held as f32, like every model
 * input) → [batch, …, outputDim] rows of the embeddings table [inputDim, outputDim]. Indices are
 * checked (integers in [0, inputDim)) before anything is written; backward scatter-adds the
 * output gradient into the rows that were looked up (repeated indices accumulate).
 */
export class Embedding extends Layer {
  readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  readonly embeddingsRegularizer: Regularizer | undefined;
  readonly inputLength: number | undefined;
  private embeddings!: LayerWeight;
  private indices = 0;
  private count = 0;

  constructor(args: EmbeddingArgs) {
    const withShape =
      args?.inputShape === undefined && args?.batchInputShape === undefined && args?.inputLength !== undefined
        ? { ...args, inputShape: [args.inputLength] }
        : args;
    super(withShape ?? ({} as EmbeddingArgs), 'embedding');
    for (const key of ['inputDim', 'outputDim'] as const) {
      const v = args?.[key];
      if (!Number.isSafeInteger(v) || (v as number) <= 0) {
        throw new ValueError(this.name, `${key} must be a positive integer, got ${v}`);
      }
    }
    if (args.maskZero) throw new ValueError(this.name, 'maskZero: true is not supported (masking is not implemented)');
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
    this.inputLength = args.inputLength;
    this.embeddingsInitializer = getInitializer(args.embeddingsInitializer, 'randomUniform', this.name);
    this.embeddingsRegularizer = getRegularizer(args.embeddingsRegularizer);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length === 0) {
      throw new ShapeError(this.name, `needs indices of rank ≥ 1 per sample, got ${fmtShape(inputShape)}`);
    }
    if (this.inputLength !== undefined && inputShape[0] !== this.inputLength) {
      throw new ShapeError(
        this.name,
        `inputLength ${this.inputLength} does not match the input shape ${fmtShape(inputShape)}`,
      );
    }
    return [...inputShape, this.outputDim];
  }

  protected override declareWeights(): void {
    this.embeddings = this.addWeight(
      'embeddings',
      [this.inputDim, this.outputDim],
      this.embeddingsInitializer,
      this.embeddingsRegularizer,
    );
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    const { rt } = ctx;
    const n = batch * (this.inputShape as number[]).reduce((a, b) => a * b, 1);
    const values = rt.f32.subarray(x >>> 2, (x >>> 2) + n);
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      if (!Number.isInteger(v) || v < 0 || v >= this.inputDim) {
        throw new ValueError(
          this.name,
          `index ${v} at flat position ${i} of the input is not an integer in [0, ${this.inputDim})`,
        );
      }
    }
    this.indices = ctx.alloc(n);
    this.count = n;
    const u32 = rt.u32;
    const first = this.indices >>> 2;
    const f32 = rt.f32;
    const src = x >>> 2;
    for (let i = 0; i < n; i++) u32[first + i] = f32[src + i] as number;
    const y = ctx.alloc(n * this.outputDim);
    gatherRows(rt, n, this.indices, this.outputDim, this.embeddings.ptr, this.inputDim, y, this.name);
    return y;
  }

  backward(ctx: StepContext, dy: number, _batch: number, needDx: boolean): number {
    const { rt } = ctx;
    if (this.trainable && this.embeddings.trainable) {
      const g = this.embeddings.grad >>> 2;
      rt.f32.fill(0, g, g + this.embeddings.size);
      scatterAddRows(rt, this.count, this.indices, this.outputDim, dy, this.embeddings.grad, this.inputDim, this.name);
    }
    if (!needDx) return 0;
    // Indices are not differentiable: their gradient is zero.
    const dx = ctx.alloc(this.count);
    rt.f32.fill(0, dx >>> 2, (dx >>> 2) + this.count);
    return dx;
  }

  getConfig(): Record<string, unknown> {
    return {
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: initializerConfig(this.embeddingsInitializer),
      embeddingsRegularizer: this.embeddingsRegularizer
        ? { className: 'L1L2', config: { l1: this.embeddingsRegularizer.l1, l2: this.embeddingsRegularizer.l2 } }
        : null,
      maskZero: false,
      ...(this.inputLength !== undefined ? { inputLength: this.inputLength } : {}),
    };
  }
}
