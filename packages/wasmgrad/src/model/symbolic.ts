/**
 * Symbolic tensors of the functional API: `wg.input({shape})` makes one, `layer.apply(x)` makes
 * more, recording which layer call (a {@link GraphNode}) produced each; `wg.model({inputs, outputs})`
 * turns the recorded graph into a trainable model. Nothing is computed here: applying a layer only
 * builds it for the input shapes, so shape errors surface at `apply` and name the layer.
 * @module
 */
import { fmtShape, ValueError } from '../errors.js';
import type { Layer } from '../layers/layer.js';

/** A malformed model graph: unknown references, cycles, duplicate names, disconnected outputs. */
export class GraphError extends ValueError {
  override readonly name: string = 'GraphError';
}

/** One call of a layer: the symbolic tensors it consumed and produced. */
export interface GraphNode {
  readonly layer: Layer;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
}

/**
 * A placeholder for the batch of values that will flow through a model (tfjs `SymbolicTensor`):
 * its shape is `[null, ...sampleShape]`; `node` is the layer call that produces it.
 */
export class SymbolicTensor {
  /** Shape with the batch axis first (null: any batch size). */
  readonly shape: (number | null)[];
  readonly dtype = 'float32' as const;
  /** `<layer name>/<output index>`, e.g. `dense_1/0`. */
  readonly name: string;

  constructor(
    /** Per-sample shape (without the batch axis). */
    readonly sampleShape: readonly number[],
    /** The layer call that produces this tensor. */
    readonly node: GraphNode,
    /** Which of the node's outputs this is. */
    readonly outputIndex: number,
  ) {
    this.shape = [null, ...sampleShape];
    this.name = `${node.layer.name}/${outputIndex}`;
  }

  /** The layer that produces this tensor. */
  get sourceLayer(): Layer {
    return this.node.layer;
  }
}

/** Records a call of `layer` on `inputs` (building it for their shapes); returns its outputs. */
export function applyLayer(layer: Layer, inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor | SymbolicTensor[] {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length === 0) throw new ValueError(layer.name, 'apply needs at least one input');
  list.forEach((x, i) => {
    if (!(x instanceof SymbolicTensor)) {
      throw new ValueError(
        layer.name,
        `apply takes symbolic tensors (from wg.input or another layer's apply); input ${i} is ${describe(x)}. ` +
          'To compute on values, build a model and call predict',
      );
    }
  });
  if (layerNodes.has(layer)) {
    throw new ValueError(
      layer.name,
      'is already applied: calling a layer twice (weight sharing) is not supported; create a second layer',
    );
  }
  layer.buildMulti(list.map((x) => x.sampleShape));
  const outputs: SymbolicTensor[] = [];
  const node: GraphNode = { layer, inputs: list, outputs };
  layer.outputShapes.forEach((shape, i) => {
    outputs.push(new SymbolicTensor(shape, node, i));
  });
  layerNodes.set(layer, node);
  return outputs.length === 1 ? (outputs[0] as SymbolicTensor) : outputs;
}

/** Records an input layer's node (no inbound tensors); returns its one output. */
export function inputNode(layer: Layer, shape: readonly number[]): SymbolicTensor {
  if (layerNodes.has(layer)) throw new ValueError(layer.name, 'is already an input');
  const outputs: SymbolicTensor[] = [];
  const node: GraphNode = { layer, inputs: [], outputs };
  outputs.push(new SymbolicTensor([...shape], node, 0));
  layerNodes.set(layer, node);
  return outputs[0] as SymbolicTensor;
}

/** The call of each applied layer (one per layer: a layer is applied at most once). */
const layerNodes = new WeakMap<Layer, GraphNode>();

/** The node recorded for `layer`, if it was applied. */
export function nodeOf(layer: Layer): GraphNode | undefined {
  return layerNodes.get(layer);
}

function describe(x: unknown): string {
  if (x === null || typeof x !== 'object') return String(x);
  const shape = (x as { shape?: unknown }).shape;
  return Array.isArray(shape) ? `a concrete tensor of shape ${fmtShape(shape)}` : 'not a symbolic tensor';
}
