import { ValueError } from '../errors.js';
import { inputNode, type SymbolicTensor } from '../model/symbolic.js';
import { Layer, type StepContext } from './layer.js';

/** Options of {@link input}, as in tfjs `tf.input`. */
export interface InputArgs {
  /** Shape of one sample (without the batch axis). */
  shape?: number[];
  /** Shape with a leading batch dimension (null or a number). */
  batchShape?: (number | null)[];
  name?: string;
  /** Recorded for Keras compatibility; values are float32 in memory either way. */
  dtype?: 'float32' | 'int32';
}

/** The layer behind `wg.input`: the entry of a functional model (tfjs/Keras `InputLayer`). */
export class InputLayer extends Layer {
  readonly className = 'InputLayer';
  readonly dtype: 'float32' | 'int32';

  constructor(args: InputArgs & { batchInputShape?: (number | null)[] }) {
    const batchShape = args?.batchShape ?? args?.batchInputShape;
    const shape = args?.shape ?? (Array.isArray(batchShape) ? (batchShape.slice(1) as number[]) : undefined);
    const name = args?.name;
    if (!Array.isArray(shape)) throw new ValueError(name ?? 'input', 'needs a shape (per sample) or a batchShape');
    if (args.dtype !== undefined && args.dtype !== 'float32' && args.dtype !== 'int32') {
      throw new ValueError(name ?? 'input', `dtype must be 'float32' or 'int32', got ${String(args.dtype)}`);
    }
    super({ name, inputShape: shape }, 'input');
    this.dtype = args.dtype ?? 'float32';
    this.build(this.inputShape as number[]);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(_ctx: StepContext, x: number, _batch: number): number {
    return x;
  }

  backward(_ctx: StepContext, dy: number, _batch: number, needDx: boolean): number {
    return needDx ? dy : 0;
  }

  getConfig(): Record<string, unknown> {
    return { batchInputShape: [null, ...(this.inputShape as number[])], dtype: this.dtype };
  }
}

/** The entry point of a functional model (tfjs `tf.input`): a symbolic tensor of shape [null, ...shape]. */
export function input(args: InputArgs): SymbolicTensor {
  const layer = new InputLayer(args);
  return inputNode(layer, layer.inputShape as number[]);
}
