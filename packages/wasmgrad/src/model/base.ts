import { fmtShape, RuntimeStateError, ShapeError, ValueError } from '../errors.js';
import type { Layer, LayerWeight } from '../layers/layer.js';
import { type Runtime, runtime } from '../runtime/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';

/** One layer in a serialized topology. */
export interface LayerJSON {
  className: string;
  config: Record<string, unknown>;
}

/** The serialized topology of a Sequential model (weights travel separately). */
export interface ModelJSON {
  className: 'Sequential';
  config: { name: string; layers: LayerJSON[] };
  format: 'wasmgrad-layers';
  version: 1;
}

/**
 * A reference to one output of one layer call, as Keras writes inbound nodes and model inputs or
 * outputs: [layerName, nodeIndex, tensorIndex] (a fourth element, call kwargs, may follow: `{}`).
 */
export type TensorRefJSON = [string, number, number] | [string, number, number, Record<string, unknown>];

/** The serialized topology of a functional (graph) model, in the Keras layout. */
export interface FunctionalJSON {
  className: 'Functional';
  config: {
    name: string;
    /** Every layer (InputLayers too) with the layer calls feeding it: one node per call. */
    layers: (LayerJSON & { name: string; inboundNodes: TensorRefJSON[][] })[];
    inputLayers: TensorRefJSON[];
    outputLayers: TensorRefJSON[];
  };
  format: 'wasmgrad-layers';
  version: 1;
}

/** The topology of any model: Sequential or Functional. */
export type LayersModelJSON = ModelJSON | FunctionalJSON;

/** Where a model's weights live: one flat block for all values and one for their gradients. */
export interface WeightBlock {
  params: number;
  grads: number;
  /** f32 count of the trainable prefix (what optimizers update). */
  trainableLength: number;
  length: number;
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * What every model has besides training: an ordered list of layers, their weights in ONE flat
 * block of wasm memory (trainable weights first, so that optimizers update every parameter in a
 * single fused pass), getWeights/setWeights, summary and the topology as JSON. Subclasses say how
 * layers are built (a chain, a graph) and serialized.
 */
export abstract class ModelBase {
  readonly name: string;
  /** The layers, in execution order (weights are listed in this order). */
  readonly layers: Layer[] = [];
  /** Set to true from a callback to end fit after the current batch. */
  stopTraining = false;
  protected block: WeightBlock | undefined;
  protected rt: Runtime | undefined;

  constructor(name: string) {
    this.name = name;
  }

  /** Per-sample input shape of the model. */
  abstract get inputShape(): number[];

  /** Per-sample output shape (builds the model). */
  abstract get outputShape(): number[];

  /** Builds every layer for its input shape (declaring weights); called once by {@link build}. */
  protected abstract buildLayers(): void;

  /** The topology as JSON (layer classes and their options); weights via getWeights/save. */
  abstract toJSON(): LayersModelJSON;

  /** A layer by name (tfjs `model.getLayer`); a ValueError listing the names when there is none. */
  getLayer(name: string): Layer {
    const layer = this.layers.find((l) => l.name === name);
    if (!layer) {
      throw new ValueError(this.name, `has no layer '${name}'; layers: ${this.layers.map((l) => l.name).join(', ')}`);
    }
    return layer;
  }

  /** Every weight, in layer order. */
  get weights(): LayerWeight[] {
    return this.layers.flatMap((l) => l.weights);
  }

  /**
   * Builds every layer and allocates and initializes the weights (once), in `target` (default: the
   * default runtime, looked up only when building, so a model built elsewhere never needs it).
   */
  build(target?: Runtime): void {
    if (this.block) return;
    const rt = target ?? runtime();
    if (this.layers.length === 0) throw new ValueError(this.name, 'the model has no layers');
    this.buildLayers();
    const all = this.weights;
    const ordered = [...all.filter((w) => w.trainable), ...all.filter((w) => !w.trainable)];
    let offset = 0;
    let trainableLength = 0;
    const offsets = new Map<LayerWeight, number>();
    for (const w of ordered) {
      offsets.set(w, offset);
      offset += align4(w.size);
      if (w.trainable) trainableLength = offset;
    }
    const length = Math.max(offset, 4);
    const params = rt.allocF32(length, this.name);
    let grads: number;
    try {
      grads = rt.allocF32(length, this.name);
    } catch (err) {
      rt.allocator.release(params);
      throw err;
    }
    // Zero both blocks: padding stays zero, and frozen layers' gradients stay zero.
    rt.f32.fill(0, params >>> 2, (params >>> 2) + length);
    rt.f32.fill(0, grads >>> 2, (grads >>> 2) + length);
    for (const w of ordered) {
      const o = offsets.get(w) as number;
      w.ptr = params + 4 * o;
      w.grad = grads + 4 * o;
      w.initializer.apply(rt, w.ptr, w.shape);
    }
    this.rt = rt;
    this.block = { params, grads, trainableLength, length };
  }

  /** The weight block (building the model if needed). */
  protected weightBlock(): WeightBlock {
    this.build();
    return this.block as WeightBlock;
  }

  /** The runtime holding the weights. */
  protected runtime(): Runtime {
    this.build();
    return this.rt as Runtime;
  }

  /** Total number of weight values. */
  countParams(): number {
    return this.layers.reduce((a, l) => a + (l.built ? l.countParams() : 0), 0);
  }

  /** Copies of the weights as tensors, in layer order (like tfjs `getWeights`). */
  getWeights(): Tensor[] {
    const rt = this.runtime();
    return this.weights.map((w) => {
      const t = empty(w.shape, 'getWeights', rt);
      rt.f32.copyWithin(t.ptr >>> 2, w.ptr >>> 2, (w.ptr >>> 2) + w.size);
      return t;
    });
  }

  /** Sets every weight from tensors of matching shapes, in layer order. Validates all first. */
  setWeights(tensors: Tensor[]): void {
    const rt = this.runtime();
    const weights = this.weights;
    if (!Array.isArray(tensors) || tensors.length !== weights.length) {
      throw new ValueError(
        'setWeights',
        `expected ${weights.length} tensors, got ${Array.isArray(tensors) ? tensors.length : tensors}`,
      );
    }
    weights.forEach((w, i) => {
      const t = tensors[i] as Tensor;
      if (fmtShape(t.shape) !== fmtShape(w.shape)) {
        throw new ShapeError('setWeights', `weight ${w.name} has shape ${fmtShape(w.shape)}, got ${fmtShape(t.shape)}`);
      }
    });
    weights.forEach((w, i) => {
      const values = (tensors[i] as Tensor).dataSync();
      rt.write(w.ptr, values);
    });
  }

  /** Extra summary columns (header and one cell per layer); graph models add "Connected to". */
  protected summaryExtra(): { head: string; cells: string[] } | undefined {
    return undefined;
  }

  /** A Keras-like table of layers, output shapes and parameter counts; returned and printed. */
  summary(printFn: (line: string) => void = console.log): string {
    this.build();
    const extra = this.summaryExtra();
    const rows = this.layers.map((l, i) => [
      `${l.name} (${l.className})`,
      `[null,${l.outputShape.join(',')}]`,
      String(l.countParams()),
      ...(extra ? [extra.cells[i] as string] : []),
    ]);
    const head = ['Layer (type)', 'Output shape', 'Param #', ...(extra ? [extra.head] : [])];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)) + 2);
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('');
    const rule = '_'.repeat(widths.reduce((a, b) => a + b, 0));
    const total = this.countParams();
    const trainable = this.layers.reduce(
      (a, l) => a + (l.trainable ? l.weights.filter((w) => w.trainable).reduce((s, w) => s + w.size, 0) : 0),
      0,
    );
    const text = [
      `Model: "${this.name}"`,
      rule,
      line(head),
      '='.repeat(rule.length),
      ...rows.map(line),
      '='.repeat(rule.length),
      `Total params: ${total}`,
      `Trainable params: ${trainable}`,
      `Non-trainable params: ${total - trainable}`,
      rule,
    ].join('\n');
    printFn(text);
    return text;
  }

  /** Frees the weight block (and optimizer state, in subclasses); the model is unusable after. */
  dispose(): void {
    if (!this.block || !this.rt) return;
    this.rt.allocator.release(this.block.params);
    this.rt.allocator.release(this.block.grads);
    this.block = undefined;
  }

  protected assertBuilt(op: string): void {
    if (!this.block) throw new RuntimeStateError(op, `model ${this.name} is not built`);
  }
}
