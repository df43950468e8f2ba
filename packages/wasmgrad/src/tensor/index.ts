/**
 * The tensor section of the public API: tensors in wasm memory, differentiable ops, autograd and
 * memory management. Every export carries its TSDoc where it is defined.
 *
 * Labels for sparse losses stay plain `Int32Array` arguments (no int32 tensor type): they are
 * never differentiated, and the loss wrappers copy them into wasm memory themselves.
 */

export { BACKWARD, type BackwardRule, type GradSlot } from './backward.js';
export {
  fill,
  ones,
  onesLike,
  scalar,
  type TensorLike,
  tensor,
  tensor1d,
  tensor2d,
  tensor3d,
  tensor4d,
  zeros,
  zerosLike,
} from './creation.js';
export { keep, withRuntime } from './engine.js';
export { grad, grads, valueAndGrad, valueAndGrads, variableGrads } from './gradients.js';
export {
  ACTIVATION_KINDS,
  type ActivationKind,
  abs,
  elu,
  exp,
  expm1,
  gelu,
  geluSigmoid,
  geluTanh,
  leakyRelu,
  log,
  log1p,
  MATH_KINDS,
  type MathKind,
  mish,
  reciprocal,
  relu,
  relu6,
  selu,
  sigmoid,
  softplus,
  sqrt,
  square,
  swish,
  tanh,
  unary,
} from './ops/activation.js';
export { add, broadcastShapes, div, mul, neg, scale, squaredDifference, sub } from './ops/binary.js';
export { avgPool2d, conv2d, depthwiseConv2d, maxPool2d } from './ops/conv.js';
export { matMul } from './ops/matmul.js';
export { broadcastTo, max, mean, sum } from './ops/reduce.js';
export { clone, concat, expandDims, reshape, slice, squeeze, transpose } from './ops/shape.js';
export { logSoftmax, softmax } from './ops/softmax.js';
export { dropout, randomNormal, randomUniform, truncatedNormal } from './random.js';
export { empty, type NestedArray, Tensor } from './tensor.js';
export { dispose, type MemoryInfo, memory, type TensorContainer, tidy } from './tidy.js';
export { Variable, variable } from './variable.js';
