/**
 * conv2d, depthwiseConv2d, maxPool2d and avgPool2d as differentiable ops: forward against direct
 * f64 loops over NHWC/HWIO data, gradients against central finite differences of those loops.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { checkOp, randomValues } from '../shared/gradcheck.js';
import { conv2dRef, depthwiseRef, type Geo, geo, poolRef } from '../shared/op-references.js';

beforeAll(async () => {
  await wg.ready();
});

describe('convolution ops', () => {
  it('conv2d valid, strided, same-padded and dilated match f64 loops and finite differences', () => {
    // 'same' with a 3x3 window and stride 1 pads 1 on each side; out = in.
    const cases: [string, Geo, number, 'valid' | 'same', number][] = [
      ['valid', geo({ h: 5, w: 6, kh: 3, kw: 2, oh: 3, ow: 5 }), 1, 'valid', 1],
      ['stride 2', geo({ h: 7, w: 6, kh: 3, kw: 3, sh: 2, sw: 2, oh: 3, ow: 2 }), 2, 'valid', 1],
      ['same', geo({ h: 5, w: 4, kh: 3, kw: 3, pt: 1, pl: 1, oh: 5, ow: 4 }), 1, 'same', 1],
      ['dilated', geo({ h: 7, w: 7, kh: 3, kw: 3, dh: 2, dw: 2, oh: 3, ow: 3 }), 1, 'valid', 2],
    ];
    for (const [name, g, strides, padding, dil] of cases) {
      const oc = 4;
      checkOp({
        name: `conv2d ${name}`,
        op: (x, f) => wg.conv2d(x as wg.Tensor, f as wg.Tensor, strides, padding, dil),
        ref: conv2dRef(g, oc),
        shapes: [
          [g.n, g.h, g.w, g.c],
          [g.kh, g.kw, g.c, oc],
        ],
        forward: { atol: 1e-5, rtol: 1e-5 },
      });
    }
    expect(() => wg.tidy(() => wg.conv2d(wg.zeros([1, 4, 4, 3]), wg.zeros([3, 3, 2, 1])))).toThrow(
      /conv2d: x \[1,4,4,3\] has 3 channels but filter \[3,3,2,1\] expects 2/,
    );
  });

  it('depthwiseConv2d matches f64 loops and finite differences', () => {
    // 'same' with stride 2 over 6 rows pads 1 row in total, after (TensorFlow puts the extra cell last).
    const g = geo({ h: 6, w: 5, kh: 3, kw: 3, sh: 2, sw: 1, pt: 0, pl: 1, oh: 3, ow: 5 });
    checkOp({
      name: 'depthwiseConv2d same stride [2,1] mult 2',
      op: (x, f) => wg.depthwiseConv2d(x as wg.Tensor, f as wg.Tensor, [2, 1], 'same'),
      ref: depthwiseRef(g, 2),
      shapes: [
        [g.n, g.h, g.w, g.c],
        [3, 3, g.c, 2],
      ],
    });
  });

  it('maxPool2d and avgPool2d match f64 loops and finite differences', () => {
    const g = geo({ h: 6, w: 7, kh: 2, kw: 3, sh: 2, sw: 2, oh: 3, ow: 3 });
    checkOp({
      name: 'maxPool2d',
      op: (x) => wg.maxPool2d(x as wg.Tensor, [2, 3], 2),
      ref: poolRef(g, 'max'),
      shapes: [[g.n, g.h, g.w, g.c]],
    });
    checkOp({
      name: 'avgPool2d',
      op: (x) => wg.avgPool2d(x as wg.Tensor, [2, 3], 2),
      ref: poolRef(g, 'avg'),
      shapes: [[g.n, g.h, g.w, g.c]],
    });
    const gs = geo({ h: 5, w: 5, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, oh: 3, ow: 3 });
    checkOp({
      name: 'avgPool2d same',
      op: (x) => wg.avgPool2d(x as wg.Tensor, 3, 2, 'same'),
      ref: poolRef(gs, 'avg'),
      shapes: [[gs.n, gs.h, gs.w, gs.c]],
    });
    checkOp({
      name: 'maxPool2d same',
      op: (x) => wg.maxPool2d(x as wg.Tensor, 3, 2, 'same'),
      ref: poolRef(gs, 'max'),
      shapes: [[gs.n, gs.h, gs.w, gs.c]],
    });
  });

  it('a conv → pool → mean chain frees every intermediate after its gradient', () => {
    const x = wg.tensor(randomValues(128, 5), [2, 8, 8, 1]);
    const f = wg.tidy(() => wg.fill([3, 3, 1, 4], 0.1));
    const before = wg.memory();
    const g = wg.grad((filter) => wg.mean(wg.maxPool2d(wg.conv2d(x, filter, 1, 'same'), 2)))(f);
    expect(g.shape).toEqual([3, 3, 1, 4]);
    g.dispose();
    expect(wg.memory().numTensors).toBe(before.numTensors);
    expect(wg.memory().heapLiveBytes).toBe(before.heapLiveBytes);
    wg.dispose([x, f]);
  });
});
