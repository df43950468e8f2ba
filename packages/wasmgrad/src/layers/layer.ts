import { fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Initializer } from '../initializers/initializers.js';
import { applyLayer, type SymbolicTensor } from '../model/symbolic.js';
import type { Regularizer } from '../regularizers/regularizers.js';
import type { Runtime } from '../runtime/runtime.js';

/** Options every layer takes. */
export interface LayerArgs {
  /** Unique name; default `<class>_<n>`. */
  name?: string;
  /** Shape of one sample (without the batch axis); required on a model's first layer. */
  inputShape?: number[];
  /** Shape with a leading batch dimension (null or a number), as in tfjs. */
  batchInputShape?: (number | null)[];
  /** Whether the layer's weights are updated by fit (default true). */
  trainable?: boolean;
}

/** One weight of a layer. `ptr`/`grad` are byte addresses set when the model allocates its weights. */
export interface LayerWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  readonly initializer: Initializer;
  readonly regularizer: Regularizer | undefined;
  readonly trainable: boolean;
  ptr: number;
  grad: number;
}

/**
 * Per-step state handed to layers: the runtime, scratch allocation from the step arena (valid until
 * the step ends), and what dropout-like layers need for reproducible randomness.
 */
export interface StepContext {
  readonly rt: Runtime;
  /** Training mode (dropout active, batch statistics) rather than inference. */
  readonly training: boolean;
  /**
   * The loss applies the model's final softmax/sigmoid itself (fused cross-entropy from logits):
   * the layer that owns that activation outputs logits and takes the logit gradient.
   */
  readonly lossAppliesActivation: boolean;
  /** Allocates `count` f32 values of scratch (uninitialized) for this step. */
  alloc(count: number): number;
  /** Seed of this fit and index of this step, for counter-based random masks. */
  readonly seed: number;
  readonly step: number;
}

const nameCounters = new Map<string, number>();

/** A fresh default layer name: `dense_1`, `dense_2`, … */
export function uniqueName(prefix: string): string {
  const n = (nameCounters.get(prefix) ?? 0) + 1;
  nameCounters.set(prefix, n);
  return `${prefix}_${n}`;
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/**
 * Base class of layers. A layer is built once its input shape is known (declaring its weights),
 * then runs `forward` and `backward` over raw buffers in wasm memory: forward keeps what backward
 * needs for the current step; backward writes its weights' gradients (overwriting them) and
 * returns the input gradient when asked.
 */
export abstract class Layer {
  abstract readonly className: string;
  readonly name: string;
  trainable: boolean;
  /** Per-sample input shape, when given or once built. */
  inputShape: number[] | undefined;
  /** Per-sample output shape, once built. */
  outputShape: number[] = [];
  readonly weights: LayerWeight[] = [];
  built = false;

  constructor(args: LayerArgs, prefix: string) {
    this.name = args.name ?? uniqueName(prefix);
    this.trainable = args.trainable ?? true;
    if (args.inputShape !== undefined) this.inputShape = checkSampleShape(this.name, args.inputShape);
    else if (args.batchInputShape !== undefined) {
      this.inputShape = checkSampleShape(this.name, args.batchInputShape.slice(1) as number[]);
    }
  }

  /** Declares weights for a per-sample input shape and computes the output shape. */
  build(inputShape: readonly number[]): void {
    if (this.built) {
      if (fmtShape(inputShape) !== fmtShape(this.inputShape ?? [])) {
        throw new ShapeError(
          this.name,
          `was built for input ${fmtShape(this.inputShape ?? [])}, got ${fmtShape(inputShape)}`,
        );
      }
      return;
    }
    this.inputShape = [...inputShape];
    this.outputShape = this.computeOutputShape(inputShape);
    this.declareWeights(inputShape);
    this.built = true;
  }

  /** The per-sample output shape for a per-sample input shape. */
  abstract computeOutputShape(inputShape: readonly number[]): number[];

  /** Called once by build: add weights with {@link addWeight}. */
  protected declareWeights(_inputShape: readonly number[]): void {}

  protected addWeight(
    name: string,
    shape: number[],
    initializer: Initializer,
    regularizer?: Regularizer,
    trainable = true,
  ): LayerWeight {
    const w: LayerWeight = {
      name: `${this.name}/${name}`,
      shape,
      size: shape.reduce((a, b) => a * b, 1),
      initializer,
      regularizer,
      trainable,
      ptr: 0,
      grad: 0,
    };
    this.weights.push(w);
    return w;
  }

  /** Forward over `batch` samples at `x`; returns the output buffer (step scratch). */
  abstract forward(ctx: StepContext, x: number, batch: number): number;

  /**
   * Backward from the output gradient `dy`: writes weight gradients (overwriting) and returns the
   * input gradient when `needDx`, else 0. Uses what the last forward kept.
   */
  abstract backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number;

  // ---- Several inputs or outputs (functional API) ----
  // Most layers take one tensor and give one; merge layers (add, concatenate, cross) take several,
  // and recurrent layers with returnState give several. Such layers override the *Multi methods;
  // the defaults below wrap the single-tensor ones, so a graph model can call every layer the same
  // way. Per-sample shapes throughout; buffers are byte addresses as in forward/backward.

  /** Per-sample input shapes once built with several inputs (undefined for single-input layers). */
  inputShapes: number[][] | undefined;
  /** Per-sample output shapes, once built (equals [outputShape] for single-output layers). */
  outputShapes: number[][] = [];

  /** Builds for several per-sample input shapes. Default: exactly one input, via {@link build}. */
  buildMulti(inputShapes: readonly (readonly number[])[]): void {
    if (inputShapes.length !== 1) {
      throw new ShapeError(this.name, `takes 1 input, got ${inputShapes.length}`);
    }
    this.build(inputShapes[0] as readonly number[]);
    this.outputShapes = [this.outputShape];
  }

  /** Forward over several inputs; returns one buffer per output. Default: {@link forward}. */
  forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    return [this.forward(ctx, xs[0] as number, batch)];
  }

  /**
   * Backward from one gradient per output (0 where no gradient flows into that output: treat it
   * as zeros); returns one input gradient per input when `needDx` (else zeros). Default:
   * {@link backward}.
   */
  backwardMulti(ctx: StepContext, dys: readonly number[], batch: number, needDx: boolean): number[] {
    return [this.backward(ctx, dys[0] as number, batch, needDx)];
  }

  /**
   * Calls the layer on symbolic tensors (functional API, as tfjs `layer.apply`): builds it for
   * their shapes and returns its output (an array for layers with several outputs).
   */
  apply(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor | SymbolicTensor[] {
    return applyLayer(this, inputs);
  }

  /** The layer's options, for toJSON (without name/trainable/inputShape, added by the model). */
  abstract getConfig(): Record<string, unknown>;

  /** Number of values in all weights. */
  countParams(): number {
    return this.weights.reduce((a, w) => a + w.size, 0);
  }

  /** Keras-style serialized name of the class, e.g. `max_pooling2d`. */
  get prefix(): string {
    return snake(this.className);
  }
}

function checkSampleShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) {
    throw new ValueError(op, `inputShape must be positive integers, got ${JSON.stringify(shape)}`);
  }
  return [...shape];
}
