import { Conv2D } from '../layers/conv.js';
import type { Layer, StepContext } from '../layers/layer.js';
import { MaxPooling2D } from '../layers/pooling.js';

/**
 * Runs `layers` in order over `x` (`rows` samples). In inference, a Conv2D with a relu, relu6 or
 * linear activation followed by a plain 2×2 max pooling runs as one kernel that never stores the
 * conv output (bit-equal to the two layers, see Conv2D.forwardMaxPool2); training runs every
 * layer, since backward needs the conv output and the pooling's argmax.
 */
export function forwardLayers(ctx: StepContext, layers: readonly Layer[], x: number, rows: number): number {
  let h = x;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as Layer;
    const conv = ctx.training ? undefined : fusedConv(layer, layers[i + 1]);
    if (conv) {
      h = conv.forwardMaxPool2(ctx, h, rows);
      i++;
    } else {
      h = layer.forward(ctx, h, rows);
    }
  }
  return h;
}

/** `layer` as a Conv2D when inference may run it and `pool` (its output's only reader) as one kernel. */
export function fusedConv(layer: Layer, pool: Layer | undefined): Conv2D | undefined {
  return layer instanceof Conv2D && pool instanceof MaxPooling2D && layer.fusesMaxPool2(pool) ? layer : undefined;
}
