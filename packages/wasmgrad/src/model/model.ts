import { type Callback, CallbackList, History, type Logs } from '../callbacks/callback.js';
import type { Dataset } from '../data/dataset.js';
import { type FitDatasetArgs, fitDataset, type TrainingBatch } from '../data/fit-dataset.js';
import { RuntimeStateError, ValueError, WasmgradError } from '../errors.js';
import { checkResumable, type FitCursor } from '../io/checkpoint.js';
import { ActivationLayer, Dense } from '../layers/dense.js';
import type { Layer, LayerWeight, StepContext } from '../layers/layer.js';
import { computeLoss, getLoss, type Loss, type LossIdentifier, type LossPlan, planLoss } from '../losses/losses.js';
import { getMetrics, type Metric } from '../metrics/metrics.js';
import { getOptimizer, type Optimizer, type OptimizerIdentifier } from '../optimizers/optimizers.js';
import { nextSeed, shuffleInPlace } from '../random.js';
import { gatherRows } from '../runtime/kernels/gather.js';
import { addPenaltyGrad, penalty } from '../runtime/kernels/optim.js';
import type { Runtime } from '../runtime/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { ModelBase, type ModelJSON } from './base.js';
import { checkInputs, type ModelInputs, type PreparedData, prepareData, releasePrepared, sliceData } from './data.js';
import { forwardLayers } from './inference.js';
import { accumulateMetrics } from './metric-sums.js';

/** Options of compile, as in tfjs. */
export interface CompileArgs {
  optimizer: OptimizerIdentifier;
  loss: LossIdentifier;
  metrics?: string[] | string;
}

/** Options of fit, as in tfjs. */
export interface FitArgs {
  epochs?: number;
  /** Samples per gradient step: N is batch gradient descent, 1 stochastic (default 32). */
  batchSize?: number;
  shuffle?: boolean;
  /** Fraction of the samples (the last ones, before shuffling) held out for validation. */
  validationSplit?: number;
  /** Held-out [x, y] (x: one tensor per model input when there are several). */
  validationData?: [ModelInputs, Tensor];
  initialEpoch?: number;
  /** 0 silent, 1 a line per epoch (default 0). */
  verbose?: 0 | 1;
  callbacks?: Callback[] | Callback;
  /** Seed of shuffling and dropout for this fit (default: from the global seed sequence). */
  seed?: number;
}

/**
 * Thrown when the loss becomes NaN or infinite: the update that produced it is not applied. With a
 * callback such as `wg.callbacks.terminateOnNaN()` fit stops cleanly instead of throwing.
 */
export class NonFiniteLossError extends WasmgradError {
  override readonly name: string = 'NonFiniteLossError';
  constructor(
    op: string,
    message: string,
    /** The non-finite loss value. */
    readonly loss = Number.NaN,
  ) {
    super(op, message);
  }
}

interface Compiled {
  /** Weights with a regularizer, looked up once so that the step loop allocates nothing. */
  regularized: LayerWeight[];
  optimizer: Optimizer;
  loss: Loss;
  plan: LossPlan;
  metrics: Metric[];
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const YIELD_MS = 50;
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * A model that trains (tfjs `tf.LayersModel`): compile, fit, evaluate, predict, trainOnBatch,
 * lossAndGradients, save. Subclasses only say how a batch flows forward and backward through their
 * layers ({@link Sequential}: a chain; {@link Functional}: a graph). The step loop calls kernels on
 * raw buffers: per-step data lives in an arena reset after every step, so fit allocates nothing
 * that outlives a step and memory stays flat.
 */
export abstract class LayersModel extends ModelBase {
  private compiled: Compiled | undefined;
  private lastCompileArgs: CompileArgs | undefined;
  private step = 0;
  /**
   * Where fit stands: the batch it runs next (epoch, batches of it applied, step counter, seed).
   * Read by checkpoint callbacks; updated in place, so it allocates nothing per batch.
   */
  readonly fitCursor: FitCursor = { epoch: 0, batch: 0, step: 0, seed: 0 };
  /** Set by a callback's onTrainBegin (backupAndRestore): this fit continues from that cursor. */
  resumeFrom: FitCursor | undefined;
  /** The current batch's inputs and targets, and the last forward output (byte addresses). */
  private readonly batchXs: number[] = [];
  private batchTarget = 0;
  private lastOutput = 0;
  private ctx: { -readonly [K in keyof StepContext]: StepContext[K] } | undefined;
  /** When fit last yielded to the event loop; kept across epochs so short epochs yield too. */
  private lastYield = 0;

  /** Forward of `rows` samples (`xs`: one buffer per model input); returns the output buffer (step scratch). */
  protected abstract forwardBatch(ctx: StepContext, xs: readonly number[], rows: number): number;

  /** Per-sample shapes of the model inputs, in the order x takes them. */
  get inputShapes(): number[][] {
    return [this.inputShape];
  }

  /** Backward from the output gradient `dy`, leaving every weight's gradient in the weight block. */
  protected abstract backwardBatch(ctx: StepContext, dy: number, rows: number): void;

  /**
   * The layer producing the model output whose final softmax/sigmoid a cross-entropy loss may
   * apply itself (fused, from logits), or undefined when none may.
   */
  protected abstract lossActivationLayer(): Layer | undefined;

  /** Sets optimizer, loss and metrics; builds the model. */
  compile(args: CompileArgs): void {
    if (!args || typeof args !== 'object') throw new ValueError('compile', 'expects { optimizer, loss, metrics }');
    const rt = this.runtime();
    const loss = getLoss(args.loss);
    const last = this.lossActivationLayer();
    const lastActivation = last instanceof Dense || last instanceof ActivationLayer ? last.activation.name : 'linear';
    const plan = planLoss(loss, lastActivation);
    for (const l of this.layers) if (l instanceof Dense || l instanceof ActivationLayer) l.activationInLoss = false;
    if (plan.fusesActivation && (last instanceof Dense || last instanceof ActivationLayer))
      last.activationInLoss = true;
    const metrics = getMetrics(args.metrics, loss);
    const optimizer = getOptimizer(args.optimizer);
    this.compiled?.optimizer.dispose(rt);
    const block = this.weightBlock();
    // Frozen layers never write their gradients: clear what an earlier training left there.
    rt.f32.fill(0, block.grads >>> 2, (block.grads >>> 2) + block.length);
    optimizer.init(rt, block.trainableLength);
    this.compiled = {
      optimizer,
      loss,
      plan,
      metrics,
      regularized: this.weights.filter((w) => w.regularizer && w.trainable),
    };
    this.lastCompileArgs = args;
  }

  /** The arguments of the last compile (workers spawned from this model compile with them). */
  get compileArgs(): CompileArgs | undefined {
    return this.lastCompileArgs;
  }

  /** The compiled optimizer. */
  get optimizer(): Optimizer {
    return this.requireCompiled('optimizer').optimizer;
  }

  private requireCompiled(op: string): Compiled {
    if (!this.compiled)
      throw new RuntimeStateError(op, `model ${this.name} must be compiled first (call model.compile)`);
    return this.compiled;
  }

  private context(rt: Runtime, training: boolean, lossAppliesActivation: boolean, seed: number) {
    this.ctx ??= {
      rt,
      training,
      lossAppliesActivation,
      seed,
      step: 0,
      alloc: (count: number) => rt.allocator.arenaAlloc(4 * count, 'step'),
    };
    Object.assign(this.ctx, { training, lossAppliesActivation, seed });
    return this.ctx;
  }

  /** Trains for a number of epochs; returns the History of logged values per epoch. */
  async fit(x: ModelInputs, y: Tensor, args: FitArgs = {}): Promise<History> {
    const { loss } = this.requireCompiled('fit');
    const rt = this.runtime();
    const epochs = args.epochs ?? 1;
    const initialEpoch = args.initialEpoch ?? 0;
    if (!Number.isSafeInteger(epochs) || epochs < 0)
      throw new ValueError('fit', `epochs must be an integer ≥ 0, got ${epochs}`);
    const batchSize = args.batchSize ?? 32;
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
      throw new ValueError('fit', `batchSize must be a positive integer, got ${batchSize}`);
    }
    const split = args.validationSplit ?? 0;
    if (!(split >= 0 && split < 1)) throw new ValueError('fit', `validationSplit must be in [0, 1), got ${split}`);
    const data = prepareData(rt, 'fit', x, y, this.inputShapes, this.outputShape, loss);
    let valData: PreparedData | undefined;
    const history = new History();
    const callbacks = new CallbackList(args.callbacks ? ([] as Callback[]).concat(args.callbacks) : []);
    let seed = args.seed ?? nextSeed();
    try {
      let trainN = data.n;
      if (split > 0) {
        const valN = Math.floor(data.n * split);
        trainN = data.n - valN;
        if (valN > 0) valData = sliceData(data, trainN, valN);
      } else if (args.validationData) {
        const [vx, vy] = args.validationData;
        valData = prepareData(rt, 'fit', vx, vy, this.inputShapes, this.outputShape, loss);
      }
      if (batchSize > trainN) {
        throw new ValueError('fit', `batchSize ${batchSize} exceeds the ${trainN} training samples`);
      }
      this.stopTraining = false;
      this.lastYield = performance.now();
      callbacks.setModel(this);
      Object.assign(this.fitCursor, {
        epoch: initialEpoch,
        batch: 0,
        step: this.step,
        seed,
        batchSize,
        samples: trainN,
      });
      this.resumeFrom = undefined;
      await callbacks.trainBegin();
      const resume = this.resumeFrom as FitCursor | undefined;
      this.resumeFrom = undefined;
      if (resume) {
        checkResumable('fit', resume, { batchSize, samples: trainN });
        seed = resume.seed;
        this.step = resume.step;
        Object.assign(this.fitCursor, resume);
      }
      const order = new Uint32Array(trainN);
      for (let epoch = this.fitCursor.epoch; epoch < epochs && !this.stopTraining; epoch++) {
        const firstBatch = epoch === resume?.epoch ? resume.batch : 0;
        Object.assign(this.fitCursor, { epoch, batch: firstBatch });
        await callbacks.epochBegin(epoch);
        for (let i = 0; i < trainN; i++) order[i] = i;
        if (args.shuffle ?? true) shuffleInPlace(order, (seed + epoch * 0x9e3779b1) >>> 0);
        const logs = await this.runEpoch(
          rt,
          data,
          trainN,
          order,
          args.shuffle ?? true,
          batchSize,
          seed,
          epoch,
          callbacks,
          firstBatch,
        );
        if (valData) {
          const val = this.evaluatePrepared(rt, valData, batchSize);
          for (const [k, v] of Object.entries(val)) logs[`val_${k}`] = v;
        }
        history.record(epoch, logs);
        if (args.verbose === 1) {
          console.log(
            `Epoch ${epoch + 1}/${epochs} ${Object.entries(logs)
              .map(([k, v]) => `${k}=${v.toFixed(4)}`)
              .join(' ')}`,
          );
        }
        await callbacks.epochEnd(epoch, logs);
      }
      await callbacks.trainEnd();
    } finally {
      if (valData && valData.owned !== data.owned) releasePrepared(rt, valData);
      releasePrepared(rt, data);
      rt.allocator.arenaReset();
    }
    return history;
  }

  private async runEpoch(
    rt: Runtime,
    data: PreparedData,
    trainN: number,
    order: Uint32Array,
    shuffled: boolean,
    batchSize: number,
    seed: number,
    epoch: number,
    callbacks: CallbackList,
    firstBatch = 0,
  ): Promise<Logs> {
    const { optimizer, plan, metrics } = this.compiled as Compiled;
    const block = this.weightBlock();
    const ctx = this.context(rt, true, plan.fusesActivation, seed);
    const outLen = prod(this.outputShape);
    const classes = this.outputShape[this.outputShape.length - 1] as number;
    const perSample = outLen / classes;
    const sums = new Float64Array(1 + metrics.length);
    let seen = 0;
    const batches = Math.ceil(trainN / batchSize);
    const cursor = this.fitCursor;
    for (let b = firstBatch; b < batches && !this.stopTraining; b++) {
      if (callbacks.wantsBatchBegin) await callbacks.batchBegin(b, { batch: b, size: batchSize });
      const start = b * batchSize;
      const rows = Math.min(batchSize, trainN - start);
      const mark = rt.allocator.arenaMark();
      this.batchPointers(rt, ctx, data, order, shuffled, start, rows);
      const target = this.batchTarget;
      ctx.step = this.step;
      let value: number;
      try {
        value = this.lossAndBackward(ctx, this.batchXs, target, rows, epoch, b, mark);
      } catch (err) {
        // A callback that handles non-finite losses (terminateOnNaN) sees it in onBatchEnd instead.
        if (!(err instanceof NonFiniteLossError && callbacks.stopsOnNonFiniteLoss)) throw err;
        await callbacks.batchEnd(b, { batch: b, size: rows, loss: err.loss });
        this.stopTraining = true;
        break;
      }
      const out = this.lastOutput;
      this.step++;
      optimizer.apply(rt, block.params, block.grads, block.trainableLength);
      cursor.step = this.step;
      if (b + 1 < batches) cursor.batch = b + 1;
      else {
        cursor.epoch = epoch + 1;
        cursor.batch = 0;
      }
      sums[0] = (sums[0] as number) + value * rows;
      accumulateMetrics(rt, metrics, sums, out, target, data.sparse, rows * perSample, classes, plan.fusesActivation);
      seen += rows;
      rt.allocator.arenaReset(mark);
      if (callbacks.wantsBatchEnd) await callbacks.batchEnd(b, { batch: b, size: rows, loss: value });
      if (performance.now() - this.lastYield > YIELD_MS) {
        await yieldToEventLoop();
        this.lastYield = performance.now();
      }
    }
    // Over the batches that were applied (none: NaN, when the first one was not finite).
    const logs: Logs = { loss: seen > 0 ? (sums[0] as number) / seen : Number.NaN };
    metrics.forEach((m, i) => {
      logs[m.key] = (sums[i + 1] as number) / Math.max(seen * perSample, 1);
    });
    return logs;
  }

  /**
   * Forward, loss (with regularization penalties) and backward for one batch, leaving the
   * gradients in the weight block. Throws {@link NonFiniteLossError} before any gradient is used
   * when the loss is NaN or infinite.
   */
  private lossAndBackward(
    ctx: StepContext,
    xs: readonly number[],
    target: number,
    rows: number,
    epoch: number,
    batch: number,
    mark: ReturnType<Runtime['allocator']['arenaMark']>,
  ): number {
    const { loss, plan } = this.compiled as Compiled;
    const rt = ctx.rt;
    const outLen = prod(this.outputShape);
    const classes = this.outputShape[this.outputShape.length - 1] as number;
    const out = this.forwardBatch(ctx, xs, rows);
    const dOut = ctx.alloc(rows * outLen);
    let value = computeLoss(rt, plan, loss, (rows * outLen) / classes, classes, out, target, dOut);
    const regularized = (this.compiled as Compiled).regularized;
    for (const w of regularized) value += penalty(rt, w.size, w.ptr, w.regularizer?.l1 ?? 0, w.regularizer?.l2 ?? 0);
    if (!Number.isFinite(value)) {
      rt.allocator.arenaReset(mark);
      const where = epoch < 0 ? 'this batch' : `epoch ${epoch}, batch ${batch}`;
      throw new NonFiniteLossError(
        'fit',
        `loss became ${value} at ${where}; weights keep their last finite values`,
        value,
      );
    }
    this.backwardBatch(ctx, dOut, rows);
    for (const w of regularized) {
      addPenaltyGrad(rt, w.size, w.ptr, w.grad, w.regularizer?.l1 ?? 0, w.regularizer?.l2 ?? 0);
    }
    this.lastOutput = out;
    return value;
  }

  /**
   * The loss of one batch and the gradient of that loss with respect to every weight (in
   * getWeights order), without updating anything. For tests, custom training loops and debugging.
   */
  lossAndGradients(x: ModelInputs, y: Tensor): { loss: number; grads: Tensor[] } {
    const { loss, plan } = this.requireCompiled('lossAndGradients');
    const rt = this.runtime();
    const data = prepareData(rt, 'lossAndGradients', x, y, this.inputShapes, this.outputShape, loss);
    const mark = rt.allocator.arenaMark();
    try {
      const ctx = this.context(rt, true, plan.fusesActivation, 0);
      ctx.step = this.step;
      const value = this.lossAndBackward(ctx, data.xs, data.target, data.n, -1, 0, mark);
      const grads = this.weights.map((w) => {
        const t = empty(w.shape, 'lossAndGradients', rt);
        rt.f32.copyWithin(t.ptr >>> 2, w.grad >>> 2, (w.grad >>> 2) + w.size);
        return t;
      });
      return { loss: value, grads };
    } finally {
      rt.allocator.arenaReset(mark);
      releasePrepared(rt, data);
    }
  }

  /**
   * Trains on a dataset of `{xs, ys}` batches (tfjs `model.fitDataset`), e.g. a streamed CSV: every
   * batch takes the trainOnBatch step and is disposed after it. Arguments: see `wg.data.fitDataset`.
   */
  fitDataset(dataset: Dataset<TrainingBatch>, args: FitDatasetArgs = {}): Promise<History> {
    return fitDataset(this, dataset, args);
  }

  /** One gradient step on one batch (Keras `train_on_batch`); returns the batch loss. */
  trainOnBatch(x: ModelInputs, y: Tensor): number {
    return this.trainOnBatchLogs(x, y).loss as number;
  }

  /**
   * {@link trainOnBatch} returning the batch's loss and compiled metrics, measured on the forward
   * pass before the update (Keras `train_on_batch(..., return_dict=True)`).
   */
  trainOnBatchLogs(x: ModelInputs, y: Tensor): Logs {
    const { loss, optimizer, plan, metrics } = this.requireCompiled('trainOnBatch');
    const rt = this.runtime();
    const block = this.weightBlock();
    const data = prepareData(rt, 'trainOnBatch', x, y, this.inputShapes, this.outputShape, loss);
    const mark = rt.allocator.arenaMark();
    try {
      const ctx = this.context(rt, true, plan.fusesActivation, 0);
      ctx.step = this.step;
      const value = this.lossAndBackward(ctx, data.xs, data.target, data.n, -1, 0, mark);
      const logs: Logs = { loss: value };
      if (metrics.length > 0) {
        const classes = this.outputShape[this.outputShape.length - 1] as number;
        const perSample = prod(this.outputShape) / classes;
        const sums = new Float64Array(1 + metrics.length);
        const rows = data.n * perSample;
        accumulateMetrics(
          rt,
          metrics,
          sums,
          this.lastOutput,
          data.target,
          data.sparse,
          rows,
          classes,
          plan.fusesActivation,
        );
        metrics.forEach((m, i) => {
          logs[m.key] = (sums[i + 1] as number) / rows;
        });
      }
      this.step++;
      optimizer.apply(rt, block.params, block.grads, block.trainableLength);
      return logs;
    } finally {
      rt.allocator.arenaReset(mark);
      releasePrepared(rt, data);
    }
  }

  /**
   * Points `batchXs` (one per input)/`batchTarget` at one batch: in place for unshuffled data, gathered into the
   * step arena otherwise. (Fields rather than a returned object: the step loop allocates nothing.)
   */
  private batchPointers(
    rt: Runtime,
    ctx: StepContext,
    data: PreparedData,
    order: Uint32Array,
    shuffled: boolean,
    start: number,
    rows: number,
  ): void {
    const xs = this.batchXs;
    xs.length = data.xs.length;
    if (!shuffled) {
      for (let i = 0; i < xs.length; i++) xs[i] = (data.xs[i] as number) + 4 * start * (data.xRowLens[i] as number);
      this.batchTarget = data.target + 4 * start * data.targetRowLen;
      return;
    }
    const idx = ctx.alloc(rows);
    const u32 = rt.u32;
    for (let r = 0; r < rows; r++) u32[(idx >>> 2) + r] = order[start + r] as number;
    for (let i = 0; i < xs.length; i++) {
      const rowLen = data.xRowLens[i] as number;
      xs[i] = ctx.alloc(rows * rowLen);
      gatherRows(rt, rows, idx, rowLen, data.xs[i] as number, data.n, xs[i] as number, 'fit');
    }
    this.batchTarget = ctx.alloc(rows * data.targetRowLen);
    gatherRows(rt, rows, idx, data.targetRowLen, data.target, data.n, this.batchTarget, 'fit');
  }

  /** Loss and metrics over a dataset, in inference mode: `{ loss, <metric>: number }`. */
  evaluate(x: ModelInputs, y: Tensor, args: { batchSize?: number } = {}): Logs {
    const { loss } = this.requireCompiled('evaluate');
    const rt = this.runtime();
    const batchSize = args.batchSize ?? 32;
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
      throw new ValueError('evaluate', `batchSize must be a positive integer, got ${batchSize}`);
    }
    const data = prepareData(rt, 'evaluate', x, y, this.inputShapes, this.outputShape, loss);
    try {
      return this.evaluatePrepared(rt, data, batchSize);
    } finally {
      releasePrepared(rt, data);
    }
  }

  private evaluatePrepared(rt: Runtime, data: PreparedData, batchSize: number): Logs {
    const { loss, plan, metrics } = this.compiled as Compiled;
    const ctx = this.context(rt, false, plan.fusesActivation, 0);
    const outLen = prod(this.outputShape);
    const classes = this.outputShape[this.outputShape.length - 1] as number;
    const perSample = outLen / classes;
    const sums = new Float64Array(1 + metrics.length);
    const empty32 = new Uint32Array(0);
    for (let start = 0; start < data.n; start += batchSize) {
      const rows = Math.min(batchSize, data.n - start);
      const mark = rt.allocator.arenaMark();
      try {
        this.batchPointers(rt, ctx, data, empty32, false, start, rows);
        const target = this.batchTarget;
        const out = this.forwardBatch(ctx, this.batchXs, rows);
        sums[0] = (sums[0] as number) + computeLoss(rt, plan, loss, rows * perSample, classes, out, target, 0) * rows;
        accumulateMetrics(rt, metrics, sums, out, target, data.sparse, rows * perSample, classes, plan.fusesActivation);
      } finally {
        rt.allocator.arenaReset(mark);
      }
    }
    const logs: Logs = { loss: (sums[0] as number) / data.n };
    metrics.forEach((m, i) => {
      logs[m.key] = (sums[i + 1] as number) / (data.n * perSample);
    });
    return logs;
  }

  /** Outputs for a batch of inputs (one tensor per model input), as a new tensor [n, ...outputShape]. */
  predict(x: ModelInputs, args: { batchSize?: number } = {}): Tensor {
    const rt = this.runtime();
    const batchSize = args.batchSize ?? 256;
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
      throw new ValueError('predict', `batchSize must be a positive integer, got ${batchSize}`);
    }
    const inputShapes = this.inputShapes;
    const { list, n } = checkInputs(rt, 'predict', x, inputShapes);
    const outLen = prod(this.outputShape);
    const inLens = inputShapes.map(prod);
    const xs = list.map((t) => t.ptr);
    const out = empty([n, ...this.outputShape], 'predict', rt);
    const ctx = this.context(rt, false, false, 0);
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      const mark = rt.allocator.arenaMark();
      try {
        for (let i = 0; i < xs.length; i++) xs[i] = (list[i] as Tensor).ptr + 4 * start * (inLens[i] as number);
        const y = this.forwardBatch(ctx, xs, rows);
        rt.f32.copyWithin((out.ptr >>> 2) + start * outLen, y >>> 2, (y >>> 2) + rows * outLen);
      } catch (err) {
        out.dispose();
        throw err;
      } finally {
        rt.allocator.arenaReset(mark);
      }
    }
    return out;
  }

  /**
   * Saves topology and weights (like tfjs `model.save`): to a directory (Node/Deno; written
   * atomically) or, with 'memory', only returned. Loaded back by `wg.loadModel`.
   */
  async save(target = 'memory'): Promise<import('../io/model-io.js').ModelArtifacts> {
    // Imported on use: io/ builds models through model/serialize, which imports this file.
    const { saveModel } = await import('../io/model-io.js');
    return saveModel(this, target);
  }

  override dispose(): void {
    if (this.compiled && this.rt) this.compiled.optimizer.dispose(this.rt);
    this.compiled = undefined;
    super.dispose();
  }
}

/** Options of {@link sequential}. */
export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
}

/**
 * A linear stack of layers (tfjs `tf.sequential`): each layer's output is the next one's input.
 * Training, evaluation and saving come from {@link LayersModel}.
 */
export class Sequential extends LayersModel {
  constructor(args: SequentialArgs = {}) {
    super(args.name ?? 'sequential');
    for (const layer of args.layers ?? []) this.add(layer);
  }

  /** Appends a layer (before the model is built). */
  add(layer: Layer): void {
    if (this.block) throw new ValueError(this.name, `cannot add layer ${layer.name}: the model is already built`);
    if (this.layers.length === 0 && !layer.inputShape) {
      throw new ValueError(this.name, `the first layer (${layer.name}) needs an inputShape`);
    }
    if (this.layers.some((l) => l.name === layer.name)) {
      throw new ValueError(this.name, `duplicate layer name '${layer.name}'`);
    }
    this.layers.push(layer);
  }

  /** Per-sample input shape of the model. */
  get inputShape(): number[] {
    const first = this.layers[0];
    if (!first?.inputShape) throw new ValueError(this.name, 'the model has no layers with an inputShape');
    return first.inputShape;
  }

  /** Per-sample output shape (builds the model). */
  get outputShape(): number[] {
    this.build();
    return (this.layers[this.layers.length - 1] as Layer).outputShape;
  }

  protected buildLayers(): void {
    let shape = this.inputShape;
    for (const layer of this.layers) {
      layer.build(shape);
      shape = layer.outputShape;
    }
  }

  protected forwardBatch(ctx: StepContext, xs: readonly number[], rows: number): number {
    return forwardLayers(ctx, this.layers, xs[0] as number, rows);
  }

  protected backwardBatch(ctx: StepContext, dy: number, rows: number): void {
    let g = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) g = (this.layers[i] as Layer).backward(ctx, g, rows, i > 0);
  }

  protected lossActivationLayer(): Layer | undefined {
    return this.layers[this.layers.length - 1];
  }

  /** The topology as JSON (layer classes and their options); weights via getWeights/save. */
  toJSON(): ModelJSON {
    return {
      className: 'Sequential',
      config: {
        name: this.name,
        layers: this.layers.map((l, i) => ({
          className: l.className,
          config: {
            name: l.name,
            trainable: l.trainable,
            ...(i === 0 ? { inputShape: l.inputShape } : {}),
            ...l.getConfig(),
          },
        })),
      },
      format: 'wasmgrad-layers',
      version: 1,
    };
  }
}

/** Creates a sequential model (tfjs `tf.sequential`). */
export function sequential(args: SequentialArgs | SequentialArgs['layers'] = {}): Sequential {
  return new Sequential(Array.isArray(args) ? { layers: args } : args);
}
