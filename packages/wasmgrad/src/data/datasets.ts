import type { Runtime } from '../runtime/runtime.js';
import { currentRuntime } from '../tensor/engine.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { loadMnistLike, type MnistSourceOptions, type MnistSplit } from './fashion.js';

/** One split as tensors: images `x`, one-hot targets `y`, and the integer `labels`. */
export interface ImageSplit {
  x: Tensor;
  y: Tensor;
  labels: Uint8Array;
}

/** Options of {@link fashionMnist} and {@link mnist}. */
export interface ImageDatasetOptions extends MnistSourceOptions {
  /** Images as [n, 784] instead of [n, 28, 28, 1] (default false). */
  flatten?: boolean;
}

function toTensors(split: MnistSplit, flatten: boolean, rt: Runtime): ImageSplit {
  const x = empty(flatten ? [split.count, 784] : [split.count, 28, 28, 1], 'fashionMnist', rt);
  rt.write(x.ptr, split.images);
  const y = empty([split.count, 10], 'fashionMnist', rt);
  const oneHot = new Float32Array(split.count * 10);
  for (let i = 0; i < split.count; i++) oneHot[i * 10 + (split.labels[i] as number)] = 1;
  rt.write(y.ptr, oneHot);
  return { x, y, labels: split.labels };
}

/**
 * Fashion-MNIST (Zalando; 60,000 training and 10,000 test images of clothing, 10 classes), from
 * IDX files in a directory or under a base URL. In Node and Deno the default is where Debian's
 * `dataset-fashion-mnist` package installs them (/usr/share/datasets/fashion-mnist).
 * Pixels are scaled to [0, 1]; targets are one-hot.
 */
export async function fashionMnist(
  options: ImageDatasetOptions = {},
): Promise<{ train: ImageSplit; test: ImageSplit }> {
  const rt = currentRuntime();
  const { train, test } = await loadMnistLike(options);
  return { train: toTensors(train, options.flatten ?? false, rt), test: toTensors(test, options.flatten ?? false, rt) };
}

/** MNIST digits, from IDX files in `dir` (same layout and options as {@link fashionMnist}). */
export async function mnist(
  options: ImageDatasetOptions & { dir: string | URL },
): Promise<{ train: ImageSplit; test: ImageSplit }> {
  return fashionMnist(options);
}
