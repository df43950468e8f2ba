import { ValueError } from '../errors.js';
import type { Conv2D } from '../layers/conv.js';
import { ActivationLayer, Dense } from '../layers/dense.js';
import type { Layer, StepContext } from '../layers/layer.js';
import { axpy, scale } from '../runtime/kernels/elementwise.js';
import type { FunctionalJSON, TensorRefJSON } from './base.js';
import { fusedConv } from './inference.js';
import { LayersModel } from './model.js';
import { GraphError, type GraphNode, SymbolicTensor } from './symbolic.js';

/** Options of {@link model}, as in tfjs `tf.model`. */
export interface FunctionalArgs {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const ref = (t: SymbolicTensor): TensorRefJSON => [t.node.layer.name, 0, t.outputIndex];

/**
 * A model over a graph of layers (tfjs `tf.model`, Keras `Functional`): made from the symbolic
 * inputs and outputs of `wg.input` and `layer.apply`. Layers run in a topological order fixed at
 * construction (inputs first, then a depth-first walk from the outputs, each layer after the
 * layers feeding it); forward keeps one buffer per symbolic tensor, backward runs the layers in
 * reverse and sums the gradients of tensors consumed by several layers. Training, evaluation and
 * saving come from {@link LayersModel}: fit, evaluate and predict take one tensor per input (an
 * array when there are several); models with several outputs build, save and load, but training
 * and predict take one output for now.
 */
export class Functional extends LayersModel {
  readonly className = 'Functional';
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  /** Layer calls in execution order (input nodes first). */
  private readonly nodes: GraphNode[];
  // The execution plan, fixed at construction so that a step allocates no JS objects: one slot
  // per symbolic tensor holding its buffer (forward) or its gradient (backward).
  private readonly slots = new Map<SymbolicTensor, number>();
  private readonly slotSize: number[] = [];
  private readonly slotNeedsGrad: boolean[] = [];
  private readonly nodeIn: number[][] = [];
  private readonly nodeOut: number[][] = [];
  private readonly nodeNeedsDx: boolean[] = [];
  private readonly values: number[] = [];
  private readonly grads: number[] = [];
  private readonly gradOwned: boolean[] = [];
  private readonly xsScratch: number[][] = [];
  private readonly dysScratch: number[][] = [];
  /** Per node, the node of the 2×2 max pooling that inference fuses into it (see inference.ts), or -1. */
  private pooledBy: number[] | undefined;

  constructor(args: FunctionalArgs) {
    super(args?.name ?? 'model');
    const op = this.name;
    if (!args || typeof args !== 'object') throw new ValueError(op, 'expects { inputs, outputs }');
    this.inputs = asList(op, 'inputs', args.inputs);
    this.outputs = asList(op, 'outputs', args.outputs);
    this.inputs.forEach((t, i) => {
      if (t.node.inputs.length > 0 || t.node.layer.className !== 'InputLayer') {
        throw new GraphError(op, `inputs[${i}] (${t.name}) is not made by wg.input`);
      }
      if (this.inputs.indexOf(t) !== i) throw new GraphError(op, `inputs[${i}] (${t.name}) is listed twice`);
    });
    this.nodes = topologicalOrder(op, this.inputs, this.outputs);
    const names = new Set<string>();
    for (const node of this.nodes) {
      const layer = node.layer;
      if (names.has(layer.name)) throw new GraphError(op, `duplicate layer name '${layer.name}'`);
      names.add(layer.name);
      if (layer.weights.some((w) => w.ptr !== 0)) {
        throw new GraphError(op, `layer ${layer.name} already holds the weights of another model`);
      }
      this.layers.push(layer);
    }
    this.plan();
  }

  /** Numbers the tensors and records, per node, where its inputs and outputs live. */
  private plan(): void {
    for (const node of this.nodes) {
      const produced = node.inputs.length > 0;
      this.nodeIn.push(node.inputs.map((t) => this.slots.get(t) as number));
      this.nodeNeedsDx.push(node.inputs.some((t) => this.slotNeedsGrad[this.slots.get(t) as number]));
      this.nodeOut.push(
        node.outputs.map((t) => {
          const slot = this.slotSize.length;
          this.slots.set(t, slot);
          this.slotSize.push(prod(t.sampleShape));
          this.slotNeedsGrad.push(produced);
          this.values.push(0);
          this.grads.push(0);
          this.gradOwned.push(false);
          return slot;
        }),
      );
      this.xsScratch.push(node.inputs.map(() => 0));
      this.dysScratch.push(node.outputs.map(() => 0));
    }
  }

  private single(list: SymbolicTensor[], what: string): SymbolicTensor {
    if (list.length !== 1) {
      throw new ValueError(
        this.name,
        what === 'input'
          ? `has ${list.length} inputs: use inputShapes (fit, evaluate and predict take an array of ${list.length} tensors)`
          : `has ${list.length} outputs; fit, evaluate and predict take models with one output (several are not supported yet)`,
      );
    }
    return list[0] as SymbolicTensor;
  }

  /** Per-sample input shape (models with one input). */
  get inputShape(): number[] {
    return [...this.single(this.inputs, 'input').sampleShape];
  }

  /** Per-sample shapes of the inputs, in the order fit, evaluate and predict take x. */
  override get inputShapes(): number[][] {
    return this.inputs.map((t) => [...t.sampleShape]);
  }

  /** Per-sample output shape (models with one output). */
  get outputShape(): number[] {
    return [...this.single(this.outputs, 'output').sampleShape];
  }

  /**
   * Layers are built when applied; this only refuses layers whose weights another model already
   * allocated (two models over one graph would otherwise silently share or lose weights).
   */
  protected buildLayers(): void {
    for (const layer of this.layers) {
      if (layer.weights.some((w) => w.ptr !== 0)) {
        throw new GraphError(this.name, `layer ${layer.name} already holds the weights of another model`);
      }
    }
  }

  protected forwardBatch(ctx: StepContext, xs: readonly number[], rows: number): number {
    const values = this.values;
    for (let i = 0; i < this.inputs.length; i++)
      values[this.slots.get(this.inputs[i] as SymbolicTensor) as number] = xs[i] as number;
    if (!ctx.training && !this.pooledBy) this.pooledBy = this.fusablePools();
    const pooledBy = ctx.training ? undefined : this.pooledBy;
    for (let k = 0; k < this.nodes.length; k++) {
      const ins = this.nodeIn[k] as number[];
      if (ins.length === 0) continue;
      const xs = this.xsScratch[k] as number[];
      for (let j = 0; j < ins.length; j++) xs[j] = values[ins[j] as number] as number;
      const layer = (this.nodes[k] as GraphNode).layer;
      if (pooledBy) {
        const m = pooledBy[k] as number;
        if (m === -2) continue; // a pooling computed with its conv
        if (m >= 0) {
          const pooled = (layer as Conv2D).forwardMaxPool2(ctx, xs[0] as number, rows);
          values[(this.nodeOut[m] as number[])[0] as number] = pooled;
          continue;
        }
      }
      const ys = layer.forwardMulti(ctx, xs, rows);
      const outs = this.nodeOut[k] as number[];
      for (let j = 0; j < outs.length; j++) values[outs[j] as number] = ys[j] as number;
    }
    return values[this.slots.get(this.single(this.outputs, 'output')) as number] as number;
  }

  /**
   * For inference: per node, the index of the max pooling fused into it when the node is a
   * Conv2D whose output only that pooling reads (and which is no model output), -2 for such a
   * pooling, else -1.
   */
  private fusablePools(): number[] {
    const plan = this.nodes.map(() => -1);
    const readers = new Map<number, number[]>();
    this.nodeIn.forEach((ins, k) => {
      for (const slot of ins) readers.set(slot, [...(readers.get(slot) ?? []), k]);
    });
    const outputs = new Set(this.outputs.map((t) => this.slots.get(t)));
    this.nodes.forEach((node, k) => {
      const slot = (this.nodeOut[k] as number[])[0] as number;
      const by = readers.get(slot) ?? [];
      if (by.length !== 1 || outputs.has(slot)) return;
      const m = by[0] as number;
      if (fusedConv(node.layer, (this.nodes[m] as GraphNode).layer)) {
        plan[k] = m;
        plan[m] = -2;
      }
    });
    return plan;
  }

  protected backwardBatch(ctx: StepContext, dy: number, rows: number): void {
    this.grads.fill(0);
    this.gradOwned.fill(false);
    this.grads[this.slots.get(this.single(this.outputs, 'output')) as number] = dy;
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const ins = this.nodeIn[k] as number[];
      if (ins.length === 0) continue;
      const outs = this.nodeOut[k] as number[];
      const dys = this.dysScratch[k] as number[];
      for (let j = 0; j < outs.length; j++) dys[j] = this.grads[outs[j] as number] as number;
      const needDx = this.nodeNeedsDx[k] as boolean;
      const dxs = (this.nodes[k] as GraphNode).layer.backwardMulti(ctx, dys, rows, needDx);
      if (!needDx) continue;
      for (let j = 0; j < ins.length; j++) {
        const slot = ins[j] as number;
        if (this.slotNeedsGrad[slot]) this.accumulate(ctx, slot, dxs[j] as number, rows);
      }
    }
  }

  /**
   * Adds a gradient contribution to a tensor's gradient. The first one is kept by reference (it
   * may alias another buffer, e.g. the dy a merge layer passes to all its inputs); a second one
   * sums both into a fresh buffer the tensor then owns, so no aliased buffer is ever written.
   */
  private accumulate(ctx: StepContext, slot: number, g: number, rows: number): void {
    const current = this.grads[slot] as number;
    if (current === 0) {
      this.grads[slot] = g;
      return;
    }
    const n = rows * (this.slotSize[slot] as number);
    if (!this.gradOwned[slot]) {
      const sum = ctx.alloc(n);
      scale(ctx.rt, n, current, 1, 0, sum, this.name);
      this.grads[slot] = sum;
      this.gradOwned[slot] = true;
    }
    axpy(ctx.rt, n, 1, g, this.grads[slot] as number, this.name);
  }

  /**
   * The output layer, when the loss may apply its final activation: it has one output, which is
   * the model's only output and feeds no other layer (a layer inside the graph needs activations).
   */
  protected lossActivationLayer(): Layer | undefined {
    if (this.outputs.length !== 1) return undefined;
    const out = this.outputs[0] as SymbolicTensor;
    if (out.node.outputs.length !== 1) return undefined;
    const consumed = this.nodes.some((n) => n.inputs.includes(out));
    if (consumed && (out.node.layer instanceof Dense || out.node.layer instanceof ActivationLayer)) return undefined;
    return out.node.layer;
  }

  protected override summaryExtra(): { head: string; cells: string[] } {
    return {
      head: 'Connected to',
      cells: this.nodes.map((n) => n.inputs.map((t) => `${t.node.layer.name}[0][${t.outputIndex}]`).join(', ')),
    };
  }

  /** The topology as JSON in the Keras layout: layers with their inbound nodes, inputs, outputs. */
  toJSON(): FunctionalJSON {
    return {
      className: 'Functional',
      config: {
        name: this.name,
        layers: this.nodes.map((n) => ({
          className: n.layer.className,
          name: n.layer.name,
          config:
            n.inputs.length === 0
              ? { name: n.layer.name, ...n.layer.getConfig() }
              : { name: n.layer.name, trainable: n.layer.trainable, ...n.layer.getConfig() },
          inboundNodes: n.inputs.length === 0 ? [] : [n.inputs.map((t) => [...ref(t), {}] as TensorRefJSON)],
        })),
        inputLayers: this.inputs.map(ref),
        outputLayers: this.outputs.map(ref),
      },
      format: 'wasmgrad-layers',
      version: 1,
    };
  }
}

function asList(op: string, what: string, v: SymbolicTensor | SymbolicTensor[]): SymbolicTensor[] {
  const list = Array.isArray(v) ? [...v] : [v];
  if (list.length === 0) throw new ValueError(op, `${what} must not be empty`);
  list.forEach((t, i) => {
    if (!(t instanceof SymbolicTensor)) {
      throw new ValueError(op, `${what}[${i}] must be a symbolic tensor (from wg.input or layer.apply)`);
    }
  });
  return list;
}

/**
 * The nodes the outputs depend on, each after the nodes feeding it: the inputs' nodes first, then
 * a depth-first walk from the outputs. Throws when an output depends on an input that is not
 * among `inputs`.
 */
function topologicalOrder(op: string, inputs: SymbolicTensor[], outputs: SymbolicTensor[]): GraphNode[] {
  const order: GraphNode[] = inputs.map((t) => t.node);
  const state = new Map<GraphNode, 'visiting' | 'done'>(order.map((n) => [n, 'done']));
  // An explicit stack instead of recursion: deep graphs must not overflow the JS stack.
  const stack: { node: GraphNode; next: number }[] = [];
  for (const out of outputs) {
    if (state.get(out.node) === 'done') continue;
    stack.push({ node: out.node, next: 0 });
    state.set(out.node, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { node: GraphNode; next: number };
      if (top.next < top.node.inputs.length) {
        const child = (top.node.inputs[top.next++] as SymbolicTensor).node;
        const s = state.get(child);
        if (s === 'visiting') throw new GraphError(op, `the graph has a cycle through layer ${child.layer.name}`);
        if (s === 'done') continue;
        if (child.inputs.length === 0) {
          throw new GraphError(
            op,
            `graph disconnected: an output depends on input '${child.layer.name}', which is not among the model inputs`,
          );
        }
        state.set(child, 'visiting');
        stack.push({ node: child, next: 0 });
      } else {
        stack.pop();
        state.set(top.node, 'done');
        order.push(top.node);
      }
    }
  }
  return order;
}

/** Creates a graph model from symbolic inputs and outputs (tfjs `tf.model`). */
export function model(args: FunctionalArgs): Functional {
  return new Functional(args);
}
