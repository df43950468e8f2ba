/**
 * Data loading: IDX files (MNIST, Fashion-MNIST) in every runtime.
 * @module
 */
export { fashionMnist, type ImageDatasetOptions, type ImageSplit, mnist } from './datasets.js';
export { DEBIAN_FASHION_MNIST_DIR, loadMnistLike, type MnistSourceOptions, type MnistSplit } from './fashion.js';
export { type IdxArray, type IdxDtype, parseIdx } from './idx.js';
export { readBytes } from './read.js';
