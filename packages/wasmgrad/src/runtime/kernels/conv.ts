import { fmtShape, ShapeError, ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkBytes } from './check.js';
import { GEMM_ACTIVATIONS, type GemmActivation } from './gemm.js';

const GEOMETRY = ['n', 'h', 'w', 'c', 'kh', 'kw', 'oc', 'sh', 'sw', 'dh', 'dw', 'pt', 'pl', 'pb', 'pr'] as const;
const DEPTHWISE = ['n', 'h', 'w', 'c', 'kh', 'kw', 'mult', 'sh', 'sw', 'dh', 'dw', 'pt', 'pl', 'pb', 'pr'] as const;

export const CONV_SIGNATURES = {
  f32_conv2d_workspace_len: [...GEOMETRY],
  f32_conv2d_forward: [...GEOMETRY, 'x', 'filter', 'bias', 'y', 'act', 'work'],
  f32_conv2d_maxpool2_workspace_len: [...GEOMETRY],
  f32_conv2d_forward_maxpool2: [...GEOMETRY, 'x', 'filter', 'bias', 'y', 'act', 'work'],
  f32_conv2d_backward_input: [...GEOMETRY, 'dy', 'filter', 'dx', 'work'],
  f32_conv2d_backward_filter: [...GEOMETRY, 'x', 'dy', 'dfilter', 'work'],
  f32_conv2d_backward_bias: ['dy', 'rows', 'oc', 'dbias'],
  f32_depthwise_conv2d_forward: [...DEPTHWISE, 'x', 'filter', 'bias', 'y'],
  f32_depthwise_conv2d_backward_input: [...DEPTHWISE, 'dy', 'filter', 'dx'],
  f32_depthwise_conv2d_backward_filter: [...DEPTHWISE, 'x', 'dy', 'dfilter'],
} as const;

/** Largest size a kernel argument may take (wasm32 `usize` arrives as a signed i32). */
const MAX_DIM = 2 ** 31 - 1;
/** Largest element count of one tensor: 4-byte values in a 4 GiB memory. */
const MAX_ELEMENTS = 2 ** 30;

/** Explicit padding in cells on each side. */
export interface ExplicitPadding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Padding as in tfjs: 'valid' (none), 'same' (TensorFlow's split, the extra cell at the end), a
 * number for every side, tfjs's NHWC form `[[0, 0], [top, bottom], [left, right], [0, 0]]`, or
 * {top, bottom, left, right}.
 */
export type Padding = 'valid' | 'same' | number | readonly (readonly [number, number])[] | ExplicitPadding;

/** Explicit paddings of `padding`, or its name; throws ValueError for anything else. */
function explicitPadding(op: string, padding: Padding): 'valid' | 'same' | ExplicitPadding {
  if (padding === 'valid' || padding === 'same') return padding;
  if (typeof padding === 'number') return { top: padding, bottom: padding, left: padding, right: padding };
  if (Array.isArray(padding)) {
    const [n, h, w, c] = padding as [number, number][];
    if (padding.length === 4 && n?.[0] === 0 && n?.[1] === 0 && c?.[0] === 0 && c?.[1] === 0 && h && w) {
      return { top: h[0], bottom: h[1], left: w[0], right: w[1] };
    }
  } else if (typeof padding === 'object' && padding !== null) {
    return padding as ExplicitPadding;
  }
  throw new ValueError(
    op,
    `padding must be 'valid', 'same', a number, [[0,0],[top,bottom],[left,right],[0,0]] or {top, bottom, left, right}, got ${JSON.stringify(padding)}`,
  );
}

/** Options of a 2-D convolution; numbers apply to both axes. */
export interface Conv2dOptions {
  strides?: number | readonly [number, number];
  padding?: Padding;
  dilations?: number | readonly [number, number];
}

/**
 * The full geometry of a conv2d / depthwise conv2d / pooling: NHWC input, filter (window) sides,
 * strides, dilations, explicit paddings and the resulting output size. `outChannels` is the
 * filter's out-channels (conv2d), in-channels × multiplier (depthwise) or in-channels (pooling).
 */
export interface Conv2dGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  filterHeight: number;
  filterWidth: number;
  outChannels: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  outHeight: number;
  outWidth: number;
}

function pair(op: string, name: string, v: number | readonly [number, number] | undefined): [number, number] {
  const [a, b] = typeof v === 'number' || v === undefined ? [v ?? 1, v ?? 1] : v;
  for (const s of [a, b]) {
    if (!Number.isSafeInteger(s) || (s as number) < 1 || (s as number) > MAX_DIM) {
      throw new ValueError(op, `${name} must be positive integers, got ${JSON.stringify(v)}`);
    }
  }
  return [a as number, b as number];
}

function checkShape(op: string, name: string, shape: readonly number[], rank: number): void {
  if (shape.length !== rank) throw new ShapeError(op, `${name} must have rank ${rank}, got shape ${fmtShape(shape)}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0 || d > MAX_DIM) {
      throw new ValueError(op, `${name} shape ${fmtShape(shape)} has a size that is not a non-negative integer`);
    }
  }
}

/**
 * Output size and paddings along one axis, as TensorFlow computes them: 'same' gives
 * ceil(in / stride) outputs and splits the padding with the extra cell after; 'valid' gives
 * ceil((in − span + 1) / stride). Throws a ShapeError when the (padded) input is shorter than
 * the dilated filter.
 */
export function axisGeometry(
  op: string,
  axis: string,
  size: number,
  filter: number,
  stride: number,
  dilation: number,
  padding: 'valid' | 'same' | ExplicitPadding,
  before: number,
  after: number,
): { out: number; before: number; after: number } {
  const span = (filter - 1) * dilation + 1;
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + span - size, 0);
    return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
  }
  if (padding !== 'valid') {
    for (const p of [before, after]) {
      if (!Number.isSafeInteger(p) || p < 0 || p > MAX_DIM) {
        throw new ValueError(op, `padding must be non-negative integers, got ${JSON.stringify(padding)}`);
      }
    }
  } else {
    before = 0;
    after = 0;
  }
  if (size + before + after < span) {
    throw new ShapeError(
      op,
      `the ${axis} filter span ${span} (size ${filter}, dilation ${dilation}) is larger than the padded input ${axis} ${size + before + after}`,
    );
  }
  return { out: convOutSize(size, before, after, filter, dilation, stride), before, after };
}

/** Output size of a convolution along one axis with explicit padding (valid geometry assumed). */
export function convOutSize(
  size: number,
  before: number,
  after: number,
  filter: number,
  dilation: number,
  stride: number,
): number {
  return Math.floor((size + before + after - ((filter - 1) * dilation + 1)) / stride) + 1;
}

/**
 * Geometry of a window of `filterHeight × filterWidth` sliding over `xShape` = [batch, h, w, c]
 * (shared by conv2d, depthwise conv2d and pooling).
 */
export function windowGeometry(
  op: string,
  xShape: readonly number[],
  filterHeight: number,
  filterWidth: number,
  outChannels: number,
  options: Conv2dOptions,
): Conv2dGeometry {
  checkShape(op, 'x', xShape, 4);
  const [batch, inHeight, inWidth, inChannels] = xShape as [number, number, number, number];
  const [strideHeight, strideWidth] = pair(op, 'strides', options.strides);
  const [dilationHeight, dilationWidth] = pair(op, 'dilations', options.dilations);
  const padding = explicitPadding(op, options.padding ?? 'valid');
  const explicit = typeof padding === 'object' ? padding : { top: 0, bottom: 0, left: 0, right: 0 };
  const hAxis = axisGeometry(
    op,
    'height',
    inHeight,
    filterHeight,
    strideHeight,
    dilationHeight,
    padding,
    explicit.top,
    explicit.bottom,
  );
  const wAxis = axisGeometry(
    op,
    'width',
    inWidth,
    filterWidth,
    strideWidth,
    dilationWidth,
    padding,
    explicit.left,
    explicit.right,
  );
  const g: Conv2dGeometry = {
    batch,
    inHeight,
    inWidth,
    inChannels,
    filterHeight,
    filterWidth,
    outChannels,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop: hAxis.before,
    padLeft: wAxis.before,
    padBottom: hAxis.after,
    padRight: wAxis.after,
    outHeight: hAxis.out,
    outWidth: wAxis.out,
  };
  for (const [name, count] of [
    ['x', batch * inHeight * inWidth * inChannels],
    ['output', batch * g.outHeight * g.outWidth * Math.max(outChannels, 1)],
    ['filter', filterHeight * filterWidth * Math.max(inChannels, 1) * Math.max(outChannels, 1)],
  ] as const) {
    if (count > MAX_ELEMENTS) throw new ValueError(op, `${name} would hold ${count} values, more than ${MAX_ELEMENTS}`);
  }
  return g;
}

/**
 * Geometry of conv2d(x, filter) for x = [batch, h, w, inC] and an HWIO filter = [kh, kw, inC, outC].
 * Throws ShapeError on rank or channel mismatches and when the filter exceeds the padded input,
 * ValueError on non-integer sizes, strides or dilations.
 */
export function conv2dGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  options: Conv2dOptions = {},
  op = 'conv2d',
): Conv2dGeometry {
  checkShape(op, 'filter', filterShape, 4);
  checkShape(op, 'x', xShape, 4);
  const [kh, kw, inC, outC] = filterShape as [number, number, number, number];
  if (inC !== xShape[3]) {
    throw new ShapeError(
      op,
      `x ${fmtShape(xShape)} has ${xShape[3]} channels but filter ${fmtShape(filterShape)} expects ${inC}`,
    );
  }
  if (kh < 1 || kw < 1) throw new ShapeError(op, `filter ${fmtShape(filterShape)} has an empty window`);
  return windowGeometry(op, xShape, kh, kw, outC, options);
}

/**
 * Geometry of depthwiseConv2d(x, filter) for x = [batch, h, w, C] and filter = [kh, kw, C, multiplier];
 * the output has C · multiplier channels.
 */
export function depthwiseConv2dGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  options: Conv2dOptions = {},
  op = 'depthwiseConv2d',
): Conv2dGeometry {
  checkShape(op, 'filter', filterShape, 4);
  checkShape(op, 'x', xShape, 4);
  const [kh, kw, c, mult] = filterShape as [number, number, number, number];
  if (c !== xShape[3]) {
    throw new ShapeError(
      op,
      `x ${fmtShape(xShape)} has ${xShape[3]} channels but filter ${fmtShape(filterShape)} expects ${c}`,
    );
  }
  if (kh < 1 || kw < 1) throw new ShapeError(op, `filter ${fmtShape(filterShape)} has an empty window`);
  if (mult < 1)
    throw new ShapeError(op, `filter ${fmtShape(filterShape)} has channel multiplier ${mult}, expected ≥ 1`);
  return windowGeometry(op, xShape, kh, kw, c * mult, options);
}

/** Value counts of x, the filter and y for a geometry. */
export function convSizes(g: Conv2dGeometry): { x: number; filter: number; y: number; rows: number } {
  const rows = g.batch * g.outHeight * g.outWidth;
  return {
    x: g.batch * g.inHeight * g.inWidth * g.inChannels,
    filter: g.filterHeight * g.filterWidth * g.inChannels * g.outChannels,
    y: rows * g.outChannels,
    rows,
  };
}

function args(g: Conv2dGeometry, seventh: number): number[] {
  return [
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.filterHeight,
    g.filterWidth,
    seventh,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.padTop,
    g.padLeft,
    g.padBottom,
    g.padRight,
  ];
}

type Span = readonly [name: string, ptr: number, count: number];

/** Checks every span against the heap, then that the written spans overlap nothing else. */
export function checkSpans(rt: Runtime, op: string, reads: readonly Span[], writes: readonly Span[]): void {
  for (const [name, ptr, count] of [...reads, ...writes]) checkBytes(rt, op, name, ptr, 4 * count);
  const all = [...writes, ...reads];
  for (let i = 0; i < writes.length; i++) {
    const [a, pa, na] = writes[i] as Span;
    for (let j = i + 1; j < all.length; j++) {
      const [b, pb, nb] = all[j] as Span;
      if (na > 0 && nb > 0 && pa < pb + 4 * nb && pb < pa + 4 * na) {
        throw new ValueError(op, `${a} [${pa}, ${pa + 4 * na}) overlaps ${b} [${pb}, ${pb + 4 * nb})`);
      }
    }
  }
}

/** f32 values of workspace every conv2d kernel needs for `g` (one column block + gemm packing). */
export function conv2dWorkspaceLength(rt: Runtime, g: Conv2dGeometry): number {
  return (
    rt.kernels.f32_conv2d_workspace_len(
      ...(args(g, g.outChannels) as Parameters<typeof rt.kernels.f32_conv2d_workspace_len>),
    ) >>> 0
  );
}

/** The kernel code of a conv epilogue activation; ValueError for any other. */
function activationCode(op: string, act: GemmActivation): number {
  const code = Object.hasOwn(GEMM_ACTIVATIONS, act) ? GEMM_ACTIVATIONS[act] : undefined;
  if (code === undefined)
    throw new ValueError(op, `act must be 'linear', 'relu' or 'relu6', got ${JSON.stringify(act)}`);
  return code;
}

/**
 * y ← act(conv2d(x, filter) + bias) (bias pointer 0 for none; `act` 'linear' (default), 'relu'
 * or 'relu6', applied in the kernel's store). `work` holds conv2dWorkspaceLength values.
 */
export function conv2dForward(
  rt: Runtime,
  g: Conv2dGeometry,
  x: number,
  filter: number,
  bias: number,
  y: number,
  work: number,
  op = 'conv2d',
  act: GemmActivation = 'linear',
): void {
  const ySize = convSizes(g).y;
  const code = checkForward(rt, g, op, act, [x, filter, bias], [y, ySize], [work, conv2dWorkspaceLength(rt, g)]);
  if (ySize === 0) return;
  rt.kernels.f32_conv2d_forward(...(args(g, g.outChannels) as ConvGeometryArgs), x, filter, bias, y, code, work);
}

/**
 * Checks the buffers of a forward kernel (x, filter, bias unless 0; y and work written) and
 * returns the kernel code of `act`.
 */
function checkForward(
  rt: Runtime,
  g: Conv2dGeometry,
  op: string,
  act: GemmActivation,
  [x, filter, bias]: [number, number, number],
  [y, ySize]: [number, number],
  [work, workSize]: [number, number],
): number {
  const s = convSizes(g);
  const reads: Span[] = [
    ['x', x, s.x],
    ['filter', filter, s.filter],
  ];
  if (bias !== 0) reads.push(['bias', bias, g.outChannels]);
  checkSpans(rt, op, reads, [
    ['y', y, ySize],
    ['work', work, workSize],
  ]);
  return activationCode(op, act);
}

/** f32 values of workspace {@link conv2dForwardMaxPool2} needs for `g`. */
export function conv2dMaxPool2WorkspaceLength(rt: Runtime, g: Conv2dGeometry): number {
  return (
    rt.kernels.f32_conv2d_maxpool2_workspace_len(
      ...(args(g, g.outChannels) as Parameters<typeof rt.kernels.f32_conv2d_maxpool2_workspace_len>),
    ) >>> 0
  );
}

/** Values of the pooled output of {@link conv2dForwardMaxPool2}: [batch, ⌊oh/2⌋, ⌊ow/2⌋, oc]. */
export function conv2dMaxPool2Size(g: Conv2dGeometry): number {
  return g.batch * Math.floor(g.outHeight / 2) * Math.floor(g.outWidth / 2) * g.outChannels;
}

/**
 * Inference fusion: y ← maxPool(act(conv2d(x, filter) + bias)) with a 2×2 window, stride 2 and
 * 'valid' padding, without storing the conv output; bit-equal to conv2dForward followed by
 * maxPool2dForward. `act` as in {@link conv2dForward}; `work` holds
 * conv2dMaxPool2WorkspaceLength values.
 */
export function conv2dForwardMaxPool2(
  rt: Runtime,
  g: Conv2dGeometry,
  x: number,
  filter: number,
  bias: number,
  y: number,
  work: number,
  op = 'conv2d',
  act: GemmActivation = 'linear',
): void {
  const ySize = conv2dMaxPool2Size(g);
  const workSize = conv2dMaxPool2WorkspaceLength(rt, g);
  const code = checkForward(rt, g, op, act, [x, filter, bias], [y, ySize], [work, workSize]);
  if (ySize === 0) return;
  rt.kernels.f32_conv2d_forward_maxpool2(
    ...(args(g, g.outChannels) as ConvGeometryArgs),
    x,
    filter,
    bias,
    y,
    code,
    work,
  );
}

/** dx ← ∂⟨conv2d(x, filter), dy⟩/∂x. */
export function conv2dBackwardInput(
  rt: Runtime,
  g: Conv2dGeometry,
  dy: number,
  filter: number,
  dx: number,
  work: number,
  op = 'conv2dBackwardInput',
): void {
  const s = convSizes(g);
  checkSpans(
    rt,
    op,
    [
      ['dy', dy, s.y],
      ['filter', filter, s.filter],
    ],
    [
      ['dx', dx, s.x],
      ['work', work, conv2dWorkspaceLength(rt, g)],
    ],
  );
  if (s.x === 0) return;
  rt.kernels.f32_conv2d_backward_input(...(args(g, g.outChannels) as ConvGeometryArgs), dy, filter, dx, work);
}

/** dfilter ← ∂⟨conv2d(x, filter), dy⟩/∂filter. */
export function conv2dBackwardFilter(
  rt: Runtime,
  g: Conv2dGeometry,
  x: number,
  dy: number,
  dfilter: number,
  work: number,
  op = 'conv2dBackwardFilter',
): void {
  const s = convSizes(g);
  checkSpans(
    rt,
    op,
    [
      ['x', x, s.x],
      ['dy', dy, s.y],
    ],
    [
      ['dfilter', dfilter, s.filter],
      ['work', work, conv2dWorkspaceLength(rt, g)],
    ],
  );
  if (s.filter === 0) return;
  if (s.rows === 0) {
    rt.f32.fill(0, dfilter >>> 2, (dfilter >>> 2) + s.filter);
    return;
  }
  rt.kernels.f32_conv2d_backward_filter(...(args(g, g.outChannels) as ConvGeometryArgs), x, dy, dfilter, work);
}

/** dbias[j] ← Σ_r dy[r, j] over `rows` rows of `channels` values. */
export function conv2dBackwardBias(
  rt: Runtime,
  dy: number,
  rows: number,
  channels: number,
  dbias: number,
  op = 'biasGrad',
): void {
  for (const [name, v] of [
    ['rows', rows],
    ['channels', channels],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > MAX_DIM)
      throw new ValueError(op, `${name} must be a non-negative integer, got ${v}`);
  }
  checkSpans(rt, op, [['dy', dy, rows * channels]], [['dbias', dbias, channels]]);
  rt.kernels.f32_conv2d_backward_bias(dy, rows, channels, dbias);
}

/** y ← depthwiseConv2d(x, filter) + bias (bias pointer 0 for none), g from depthwiseConv2dGeometry. */
export function depthwiseConv2dForward(
  rt: Runtime,
  g: Conv2dGeometry,
  x: number,
  filter: number,
  bias: number,
  y: number,
  op = 'depthwiseConv2d',
): void {
  const s = depthwiseSizes(g);
  const reads: Span[] = [
    ['x', x, s.x],
    ['filter', filter, s.filter],
  ];
  if (bias !== 0) reads.push(['bias', bias, g.outChannels]);
  checkSpans(rt, op, reads, [['y', y, s.y]]);
  if (s.y === 0) return;
  rt.kernels.f32_depthwise_conv2d_forward(...(args(g, s.mult) as ConvGeometryArgs), x, filter, bias, y);
}

/** dx ← ∂⟨depthwiseConv2d(x, filter), dy⟩/∂x. */
export function depthwiseConv2dBackwardInput(
  rt: Runtime,
  g: Conv2dGeometry,
  dy: number,
  filter: number,
  dx: number,
  op = 'depthwiseConv2dBackwardInput',
): void {
  const s = depthwiseSizes(g);
  checkSpans(
    rt,
    op,
    [
      ['dy', dy, s.y],
      ['filter', filter, s.filter],
    ],
    [['dx', dx, s.x]],
  );
  if (s.x === 0) return;
  rt.kernels.f32_depthwise_conv2d_backward_input(...(args(g, s.mult) as ConvGeometryArgs), dy, filter, dx);
}

/** dfilter ← ∂⟨depthwiseConv2d(x, filter), dy⟩/∂filter. */
export function depthwiseConv2dBackwardFilter(
  rt: Runtime,
  g: Conv2dGeometry,
  x: number,
  dy: number,
  dfilter: number,
  op = 'depthwiseConv2dBackwardFilter',
): void {
  const s = depthwiseSizes(g);
  checkSpans(
    rt,
    op,
    [
      ['x', x, s.x],
      ['dy', dy, s.y],
    ],
    [['dfilter', dfilter, s.filter]],
  );
  if (s.filter === 0) return;
  if (s.y === 0) {
    rt.f32.fill(0, dfilter >>> 2, (dfilter >>> 2) + s.filter);
    return;
  }
  rt.kernels.f32_depthwise_conv2d_backward_filter(...(args(g, s.mult) as ConvGeometryArgs), x, dy, dfilter);
}

function depthwiseSizes(g: Conv2dGeometry): { x: number; filter: number; y: number; mult: number } {
  const mult = g.inChannels === 0 ? 1 : g.outChannels / g.inChannels;
  const rows = g.batch * g.outHeight * g.outWidth;
  return {
    x: g.batch * g.inHeight * g.inWidth * g.inChannels,
    filter: g.filterHeight * g.filterWidth * g.outChannels,
    y: rows * g.outChannels,
    mult,
  };
}

/** The 15 geometry arguments every conv kernel export takes first (see `args`). */
export type ConvGeometryArgs = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];
