import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError } from '../../packages/wasmgrad/src/errors.js';
import * as k from '../../packages/wasmgrad/src/runtime/kernels/optim.js';
import { createRuntime, type Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { put } from '../shared/buffers.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

// The package index is imported piecewise so that these kernel tests do not depend on the layers above.

const f32 = (xs: number[]) => xs.map(Math.fround);

/** One optimizer under test: its kernel call and its f64 reference for one element. */
interface Case {
  name: string;
  states: number;
  init?: number;
  /** Calls the checked wrapper for step t on buffers p, g and state pointers s. */
  run: (rt: Runtime, t: number, n: number, p: number, g: number, s: number[]) => void;
  /** Updates one element: returns the new parameter, mutates its state values. */
  ref: (t: number, p: number, g: number, s: number[]) => number;
}

/** Runs `steps` steps on both sides with fresh gradients each step; returns every step's state. */
function runBoth(rt: Runtime, c: Case, p0: number[], grads: number[][]) {
  const n = p0.length;
  const p = put(rt, p0);
  const s = Array.from({ length: c.states }, () => put(rt, new Array(n).fill(c.init ?? 0)));
  const g = rt.allocF32(Math.max(1, n), 'test');
  const refP = [...p0];
  const refS = p0.map(() => new Array(c.states).fill(c.init ?? 0) as number[]);
  const got: Float32Array[] = [];
  const want: Float64Array[] = [];
  grads.forEach((gt, i) => {
    const t = i + 1;
    rt.write(g, gt);
    c.run(rt, t, n, p, g, s);
    for (let e = 0; e < n; e++) refP[e] = c.ref(t, refP[e] as number, gt[e] as number, refS[e] as number[]);
    got.push(rt.read(p, n));
    want.push(Float64Array.from(refP));
    for (let j = 0; j < c.states; j++) {
      got.push(rt.read(s[j] as number, n));
      want.push(Float64Array.from(refS.map((x) => x[j] as number)));
    }
  });
  return { got, want };
}

// ---- Keras formulas in f64 (keras/src/optimizers/*.py, update_step) ----

const KERAS: Case[] = [
  {
    name: 'sgd',
    states: 0,
    run: (rt, _t, n, p, g) => k.sgd(rt, n, p, g, 0.1),
    ref: (_t, p, g) => p - 0.1 * g,
  },
  {
    name: 'sgd momentum',
    states: 1,
    run: (rt, _t, n, p, g, s) => k.sgdMomentum(rt, n, p, g, s[0] as number, 0.05, 0.9),
    ref: (_t, p, g, s) => {
      s[0] = 0.9 * (s[0] as number) - 0.05 * g;
      return p + (s[0] as number);
    },
  },
  {
    name: 'sgd nesterov',
    states: 1,
    run: (rt, _t, n, p, g, s) => k.sgdNesterov(rt, n, p, g, s[0] as number, 0.05, 0.9),
    ref: (_t, p, g, s) => {
      s[0] = 0.9 * (s[0] as number) - 0.05 * g;
      return p + 0.9 * (s[0] as number) - 0.05 * g;
    },
  },
  ...[false, true].flatMap((amsgrad) =>
    [0, 0.05].map(
      (wd): Case => ({
        name: `adam amsgrad=${amsgrad} weightDecay=${wd}`,
        states: 3,
        run: (rt, t, n, p, g, s) =>
          k.adam(rt, n, p, g, s[0] as number, s[1] as number, amsgrad ? (s[2] as number) : 0, {
            learningRate: 0.01,
            step: t,
            weightDecay: wd,
          }),
        ref: (t, p, g, s) => {
          const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-7];
          const q = p - p * wd * lr;
          s[0] = (s[0] as number) + (g - (s[0] as number)) * (1 - b1);
          s[1] = (s[1] as number) + (g * g - (s[1] as number)) * (1 - b2);
          if (amsgrad) s[2] = Math.max(s[2] as number, s[1] as number);
          const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
          return q - ((s[0] as number) * alpha) / (Math.sqrt(s[amsgrad ? 2 : 1] as number) + eps);
        },
      }),
    ),
  ),
  {
    name: 'adamax',
    states: 2,
    run: (rt, t, n, p, g, s) => k.adamax(rt, n, p, g, s[0] as number, s[1] as number, { learningRate: 0.01, step: t }),
    ref: (t, p, g, s) => {
      s[0] = (s[0] as number) + (g - (s[0] as number)) * 0.1;
      s[1] = Math.max(0.999 * (s[1] as number), Math.abs(g));
      return p - (0.01 * (s[0] as number)) / ((1 - 0.9 ** t) * ((s[1] as number) + 1e-7));
    },
  },
  {
    name: 'nadam',
    states: 2,
    run: (rt, t, n, p, g, s) => k.nadam(rt, n, p, g, s[0] as number, s[1] as number, { learningRate: 0.01, step: t }),
    ref: (t, p, g, s) => {
      // Keras: u_t = β1(1 − ½·0.96ᵗ), u_product_t = u_1⋯u_t.
      const u = (i: number) => 0.9 * (1 - 0.5 * 0.96 ** i);
      let prod = 1;
      for (let i = 1; i <= t; i++) prod *= u(i);
      s[0] = (s[0] as number) + (g - (s[0] as number)) * 0.1;
      s[1] = (s[1] as number) + (g * g - (s[1] as number)) * 0.001;
      const mHat = (u(t + 1) * (s[0] as number)) / (1 - prod * u(t + 1)) + ((1 - u(t)) * g) / (1 - prod);
      const vHat = (s[1] as number) / (1 - 0.999 ** t);
      return p - (mHat * 0.01) / (Math.sqrt(vHat) + 1e-7);
    },
  },
  ...[false, true].flatMap((centered) =>
    [0, 0.8].map(
      (momentum): Case => ({
        name: `rmsprop centered=${centered} momentum=${momentum}`,
        states: 3,
        run: (rt, _t, n, p, g, s) =>
          k.rmsprop(
            rt,
            n,
            p,
            g,
            s[0] as number,
            centered ? (s[1] as number) : 0,
            momentum > 0 ? (s[2] as number) : 0,
            0.01,
            0.9,
            momentum,
            1e-7,
          ),
        ref: (_t, p, g, s) => {
          s[0] = 0.9 * (s[0] as number) + 0.1 * g * g;
          let d = (s[0] as number) + 1e-7;
          if (centered) {
            s[1] = 0.9 * (s[1] as number) + 0.1 * g;
            d = (s[0] as number) - (s[1] as number) ** 2 + 1e-7;
          }
          const inc = (0.01 * g) / Math.sqrt(d);
          if (momentum === 0) return p - inc;
          s[2] = momentum * (s[2] as number) + inc;
          return p - (s[2] as number);
        },
      }),
    ),
  ),
  {
    name: 'adagrad',
    states: 1,
    init: k.ADAGRAD_INITIAL_ACCUMULATOR,
    run: (rt, _t, n, p, g, s) => k.adagrad(rt, n, p, g, s[0] as number, 0.05, 1e-7),
    ref: (_t, p, g, s) => {
      s[0] = (s[0] as number) + g * g;
      return p - (0.05 * g) / Math.sqrt((s[0] as number) + 1e-7);
    },
  },
  {
    name: 'adadelta',
    states: 2,
    run: (rt, _t, n, p, g, s) => k.adadelta(rt, n, p, g, s[0] as number, s[1] as number, 1, 0.95, 1e-6),
    ref: (_t, p, g, s) => {
      s[0] = 0.95 * (s[0] as number) + 0.05 * g * g;
      const delta = (-Math.sqrt((s[1] as number) + 1e-6) * g) / Math.sqrt((s[0] as number) + 1e-6);
      s[1] = 0.95 * (s[1] as number) + 0.05 * delta * delta;
      return p + delta;
    },
  },
  {
    name: 'weight decay',
    states: 0,
    run: (rt, _t, n, p) => k.weightDecay(rt, n, p, 0.01),
    ref: (_t, p) => p - 0.01 * p,
  },
];

/*
 * Reference numbers from PyTorch 1.13 (Debian python3-torch), f64 tensors, generated by:
 *
 *   import torch
 *   torch.set_default_dtype(torch.float64)
 *   p0 = [0.5, -1.2, 2.0, 0.03, -0.7]
 *   grads = [[0.3, -0.8, 1.5, -0.02, 0.6], [-0.1, 0.4, 1.2, 0.05, -0.9], [0.25, -0.3, 0.9, -0.04, 0.2]]
 *   configs = {
 *     'sgdMomentum': lambda w: torch.optim.SGD([w], lr=0.1, momentum=0.9),
 *     'sgdNesterov': lambda w: torch.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True),
 *     'adam': lambda w: torch.optim.Adam([w], lr=0.01, betas=(0.9, 0.999), eps=1e-8),
 *     'adamAmsgrad': lambda w: torch.optim.Adam([w], lr=0.01, betas=(0.8, 0.99), eps=1e-8, amsgrad=True),
 *     'adamw': lambda w: torch.optim.AdamW([w], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
 *     'rmspropCenteredMomentum': lambda w: torch.optim.RMSprop([w], lr=0.01, alpha=0.9, eps=1e-10,
 *                                                             momentum=0.8, centered=True),
 *     'adagrad': lambda w: torch.optim.Adagrad([w], lr=0.1, initial_accumulator_value=0.1, eps=1e-10),
 *     'adadelta': lambda w: torch.optim.Adadelta([w], lr=1.0, rho=0.9, eps=1e-6),
 *     'adamax': lambda w: torch.optim.Adamax([w], lr=0.01, betas=(0.9, 0.999), eps=0.0),
 *     'nadam': lambda w: torch.optim.NAdam([w], lr=0.01, betas=(0.9, 0.999), eps=1e-8, momentum_decay=0.004,
 *                                          foreach=True),
 *   }
 *   for name, make in configs.items():
 *       w = torch.tensor(p0, requires_grad=True)
 *       opt = make(w)
 *       for g in grads:
 *           w.grad = torch.tensor(g)
 *           opt.step()
 *           print(name, [float(x) for x in w.detach()])
 *
 * Where PyTorch and Keras differ we call our kernels so that they compute PyTorch's update:
 * - SGD: PyTorch keeps b = m·b + g and steps −lr·b; Keras keeps v = −lr·b. Same parameters.
 * - Adam/AdamW: PyTorch adds ε to the bias-corrected root (epsilonMode 'pytorch'); AdamW's decay
 *   p·(1 − lr·wd) equals Keras's p − p·wd·lr.
 * - RMSprop: PyTorch puts ε outside the root and lr outside the momentum buffer; with ε = 1e-10 the
 *   ε placement changes nothing at this tolerance, and lr placement nothing for a constant lr.
 * - Adagrad: PyTorch uses √acc + ε (ε = 1e-10 here, negligible) and starts at 0 by default (0.1 here,
 *   Keras's default).
 * - Adadelta: identical formulas (PyTorch's default lr is 1, Keras's 0.001).
 * - Adamax: PyTorch puts ε inside the max; identical for ε = 0.
 * - NAdam: PyTorch's schedule is μ_t = β1(1 − ½·0.96^(0.004·t)), Keras's uses 0.96ᵗ: momentumDecay.
 *   foreach=True because 1.13's single-tensor NAdam multiplies μ_t into Π_{t+1} twice (fixed in
 *   pytorch/pytorch#92699, PyTorch 2.0); its multi-tensor path has the published formula.
 */
const P0 = [0.5, -1.2, 2.0, 0.03, -0.7];
const GRADS = [
  [0.3, -0.8, 1.5, -0.02, 0.6],
  [-0.1, 0.4, 1.2, 0.05, -0.9],
  [0.25, -0.3, 0.9, -0.04, 0.2],
];
const TORCH: Record<string, number[][]> = {
  sgdMomentum: [
    [0.47, -1.1199999999999999, 1.85, 0.032, -0.76],
    [0.45299999999999996, -1.0879999999999999, 1.5950000000000002, 0.0288, -0.724],
    [0.41269999999999996, -1.0292, 1.2755000000000003, 0.02992, -0.7116],
  ],
  sgdNesterov: [
    [0.443, -1.048, 1.715, 0.0338, -0.814],
    [0.4377, -1.0592000000000001, 1.3655000000000002, 0.025919999999999995, -0.6916],
    [0.37643, -0.9762800000000001, 0.9879500000000001, 0.030927999999999994, -0.70044],
  ],
  adam: [
    [0.4900000003333333, -1.190000000125, 1.9900000000666667, 0.039999995000002495, -0.7099999998333333],
    [0.48599781479280807, -1.187336629770514, 1.9801187420981867, 0.03557784352327238, -0.7075229817043741],
    [0.47960773293962256, -1.1833518168644994, 1.9704909773447983, 0.03664479602761492, -0.7068024089617411],
  ],
  adamAmsgrad: [
    [0.4900000003333333, -1.190000000125, 1.9900000000666667, 0.039999995000002495, -0.7099999998333333],
    [0.48651465975940394, -1.1878886296782343, 1.9801784460311966, 0.03504853177857828, -0.7069522482725973],
    [0.4801346796847, -1.1841750558998008, 1.9707266795184244, 0.03640121357792391, -0.7060734308949896],
  ],
  adamw: [
    [0.4895000003333333, -1.1888000001249999, 1.9880000000666667, 0.0399699950000025, -0.7092999998333333],
    [0.48500831479247475, -1.1849478297703888, 1.97613074209812, 0.03550787352827238, -0.7061136817045407],
    [0.47813322462449676, -1.179778069034604, 1.9645268466026335, 0.03653931815908664, -0.7046869952802031],
  ],
  rmspropCenteredMomentum: [
    [0.4666666667037037, -1.1666666666805554, 1.966666666674074, 0.06333333277777779, -0.7333333333148148],
    [0.4506533795903271, -1.1548478467924008, 1.917381628559464, 0.05989044195090361, -0.7331198334461714],
    [0.4157593832122863, -1.1341955303503994, 1.8612631537651214, 0.07674431157538335, -0.7390947033284395],
  ],
  adagrad: [
    [0.43117527985462095, -1.1070018890157554, 1.9021507890483667, 0.036311944028986, -0.7884651736798948],
    [0.45353595962461885, -1.1491655911468892, 1.8405109294190312, 0.020724951874131342, -0.7086030878395311],
    [0.404740955986716, -1.1190144566921432, 1.7985482130501735, 0.03309871636809851, -0.7260771689712251],
  ],
  adadelta: [
    [0.496837898007285, -1.1968377470448364, 1.9968377293670918, 0.03312347523777212, -0.7031622337405603],
    [0.49832027401709905, -1.1989228688752425, 1.9939547368499462, 0.02897508468035377, -0.6993826319222373],
    [0.4952914584770047, -1.197251720439053, 1.9915817124917377, 0.03268490483657342, -0.7005030428352786],
  ],
  adamax: [
    [0.49, -1.19, 1.99, 0.04, -0.71],
    [0.4870145584180672, -1.1878926294715768, 1.9810436752542016, 0.03663157894736842, -0.7078947368421052],
    [0.48204768005873116, -1.1851750198481683, 1.9731681534884058, 0.03745897460871242, -0.7073858228440564],
  ],
  nadam: [
    [0.48943548256859665, -1.1894354823485025, 1.9894354822868763, 0.040564512501297625, -0.7105645176074785],
    [0.49214317461455326, -1.1935465795758866, 1.982413144266747, 0.031095584620967613, -0.7022181506080059],
    [0.48483112590984095, -1.1897063867493929, 1.9767417023669065, 0.037478533588412945, -0.7040318373330465],
  ],
};

type Step = (rt: Runtime, t: number, n: number, p: number, g: number, s: number[]) => void;
const TORCH_CALLS: Record<string, { states: number; init?: number; run: Step }> = {
  sgdMomentum: { states: 1, run: (rt, _t, n, p, g, s) => k.sgdMomentum(rt, n, p, g, s[0] as number, 0.1, 0.9) },
  sgdNesterov: { states: 1, run: (rt, _t, n, p, g, s) => k.sgdNesterov(rt, n, p, g, s[0] as number, 0.1, 0.9) },
  adam: {
    states: 2,
    run: (rt, t, n, p, g, s) =>
      k.adam(rt, n, p, g, s[0] as number, s[1] as number, 0, {
        learningRate: 0.01,
        epsilon: 1e-8,
        step: t,
        epsilonMode: 'pytorch',
      }),
  },
  adamAmsgrad: {
    states: 3,
    run: (rt, t, n, p, g, s) =>
      k.adam(rt, n, p, g, s[0] as number, s[1] as number, s[2] as number, {
        learningRate: 0.01,
        beta1: 0.8,
        beta2: 0.99,
        epsilon: 1e-8,
        step: t,
        epsilonMode: 'pytorch',
      }),
  },
  adamw: {
    states: 2,
    run: (rt, t, n, p, g, s) =>
      k.adam(rt, n, p, g, s[0] as number, s[1] as number, 0, {
        learningRate: 0.01,
        epsilon: 1e-8,
        step: t,
        weightDecay: 0.1,
        epsilonMode: 'pytorch',
      }),
  },
  rmspropCenteredMomentum: {
    states: 3,
    run: (rt, _t, n, p, g, s) =>
      k.rmsprop(rt, n, p, g, s[0] as number, s[1] as number, s[2] as number, 0.01, 0.9, 0.8, 1e-10),
  },
  adagrad: { states: 1, init: 0.1, run: (rt, _t, n, p, g, s) => k.adagrad(rt, n, p, g, s[0] as number, 0.1, 1e-10) },
  adadelta: {
    states: 2,
    run: (rt, _t, n, p, g, s) => k.adadelta(rt, n, p, g, s[0] as number, s[1] as number, 1, 0.9, 1e-6),
  },
  adamax: {
    states: 2,
    run: (rt, t, n, p, g, s) =>
      k.adamax(rt, n, p, g, s[0] as number, s[1] as number, { learningRate: 0.01, epsilon: 0, step: t }),
  },
  nadam: {
    states: 2,
    run: (rt, t, n, p, g, s) =>
      k.nadam(rt, n, p, g, s[0] as number, s[1] as number, {
        learningRate: 0.01,
        epsilon: 1e-8,
        step: t,
        momentumDecay: 0.004,
      }),
  },
};

const runtimes: Record<string, Runtime> = {};
beforeAll(async () => {
  runtimes.simd = await createRuntime({ simd: true });
  runtimes.scalar = await createRuntime({ simd: false });
});

describe.each(['simd', 'scalar'])('optimizer kernels on the %s build', (build) => {
  const rt = () => runtimes[build] as Runtime;

  it.each(KERAS.map((c) => [c.name, c] as const))('%s follows the Keras formula over 4 steps', (_name, c) => {
    const rand = seededRandom(3);
    // 37 elements: nine full vectors and a tail of one.
    const p0 = f32(Array.from({ length: 37 }, () => rand(-1, 1)));
    const grads = Array.from({ length: 4 }, () => f32(Array.from({ length: 37 }, () => rand(-2, 2))));
    const { got, want } = runBoth(rt(), c, p0, grads);
    got.forEach((g, i) => {
      assertClose(g, want[i] as Float64Array, { atol: 1e-6, rtol: 1e-5 }, `${c.name} buffer ${i}`);
    });
  });

  it.each(Object.keys(TORCH))('%s matches PyTorch 1.13 over 3 steps', (name) => {
    const c = TORCH_CALLS[name] as (typeof TORCH_CALLS)[string];
    const p = put(rt(), P0);
    const s = Array.from({ length: c.states }, () => put(rt(), new Array(5).fill(c.init ?? 0)));
    const g = rt().allocF32(5, 'test');
    GRADS.forEach((gt, i) => {
      rt().write(g, gt);
      c.run(rt(), i + 1, 5, p, g, s);
      assertClose(
        rt().read(p, 5),
        (TORCH[name] as number[][])[i] as number[],
        { atol: 1e-6, rtol: 1e-5 },
        `${name} step ${i + 1}`,
      );
    });
  });

  it('penalty value and gradient match L1L2 and central differences of the f64 penalty', () => {
    const rand = seededRandom(5);
    const [l1, l2] = [0.01, 0.003];
    const reference = (x: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += l1 * Math.abs(x[i] as number) + l2 * (x[i] as number) ** 2;
      return s;
    };
    for (const n of [0, 1, 3, 4, 5, 8, 17, 1031]) {
      const x = f32(Array.from({ length: n }, () => rand(-3, 3)));
      if (n > 2) x[1] = 0;
      const g0 = f32(Array.from({ length: n }, () => rand(-1, 1)));
      const p = put(rt(), x);
      const g = put(rt(), g0);
      assertClose([k.penalty(rt(), n, p, l1, l2)], [reference(x)], { atol: 1e-7, rtol: 1e-6 }, `penalty n=${n}`);
      k.addPenaltyGrad(rt(), n, p, g, l1, l2);
      const got = rt().read(g, n);
      // d/dx of l1|x| + l2x² by central differences (x = 0 uses the subgradient 0, as Keras's sign).
      const h = 1e-6;
      const fd = x.map((xi, i) => {
        if (xi === 0) return g0[i] as number;
        const up = [...x];
        const down = [...x];
        up[i] = xi + h;
        down[i] = xi - h;
        return (g0[i] as number) + (reference(up) - reference(down)) / (2 * h);
      });
      assertClose(got, fd, { atol: 1e-6, rtol: 1e-5 }, `penalty gradient n=${n}`);
    }
  });

  it('clips by value, by norm and by global norm over several ranges', () => {
    const rand = seededRandom(9);
    for (const n of [1, 3, 4, 9, 33]) {
      const g0 = f32(Array.from({ length: n }, () => rand(-3, 3)));
      const g = put(rt(), g0);
      k.clipByValue(rt(), n, g, -0.5, 1);
      assertClose(
        rt().read(g, n),
        g0.map((x) => Math.min(1, Math.max(-0.5, x))),
        { atol: 0, rtol: 0 },
        'clipvalue',
      );
      const norm = Math.hypot(...g0);
      for (const clip of [0.5, 1e6]) {
        rt().write(g, g0);
        assertClose([k.clipByNorm(rt(), n, g, clip)], [norm], { atol: 1e-6, rtol: 1e-6 }, 'returned norm');
        const s = clip / Math.max(norm, clip);
        assertClose(
          rt().read(g, n),
          g0.map((x) => x * s),
          { atol: 1e-7, rtol: 2e-6 },
          `clipnorm ${clip}`,
        );
      }
    }
    // Global norm of three separate ranges.
    const parts = [5, 1, 12].map((n) => f32(Array.from({ length: n }, () => rand(-2, 2))));
    const ptrs = parts.map((x) => put(rt(), x));
    const total = Math.hypot(...parts.flat());
    const norm = k.clipByGlobalNorm(
      rt(),
      parts.map((x, i) => ({ n: x.length, grad: ptrs[i] as number })),
      1,
    );
    assertClose([norm], [total], { atol: 1e-6, rtol: 1e-6 }, 'global norm');
    parts.forEach((x, i) => {
      assertClose(
        rt().read(ptrs[i] as number, x.length),
        x.map((v) => v / total),
        { atol: 1e-7, rtol: 2e-6 },
        'global',
      );
    });
  });

  it('updates only the requested sub-range (e.g. kernels but not biases)', () => {
    const n = 16;
    const p0 = f32(Array.from({ length: n }, (_, i) => 0.1 * i - 0.5));
    const p = put(rt(), p0);
    const g = put(rt(), new Array(n).fill(1));
    k.weightDecay(rt(), 10, p + 4 * 3, 0.5);
    const got = rt().read(p, n);
    for (let i = 0; i < n; i++) {
      const x = p0[i] as number;
      expect(got[i]).toBe(i >= 3 && i < 13 ? Math.fround(x - x * 0.5) : x);
    }
    k.sgd(rt(), 0, p, g, 1); // n = 0 touches nothing
    expect(rt().read(p, n)).toEqual(got);
  });
});

describe('optimizer kernels across builds and arguments', () => {
  it('SIMD and scalar builds give bitwise identical updates', () => {
    const rand = seededRandom(11);
    const p0 = f32(Array.from({ length: 23 }, () => rand(-1, 1)));
    const grads = Array.from({ length: 3 }, () => f32(Array.from({ length: 23 }, () => rand(-2, 2))));
    for (const c of KERAS) {
      const a = runBoth(runtimes.simd as Runtime, c, p0, grads).got;
      const b = runBoth(runtimes.scalar as Runtime, c, p0, grads).got;
      a.forEach((x, i) => {
        expect(Array.from(new Uint32Array(x.buffer)), `${c.name} buffer ${i}`).toEqual(
          Array.from(new Uint32Array((b[i] as Float32Array).buffer)),
        );
      });
    }
  });

  it('rejects bad arguments with typed errors that name the op, before touching memory', () => {
    const rt = runtimes.simd as Runtime;
    const p = put(rt, [1, 2, 3, 4]);
    const g = put(rt, [1, 1, 1, 1]);
    const m = put(rt, [0, 0, 0, 0]);
    const v = put(rt, [0, 0, 0, 0]);
    const o = { learningRate: 0.1, step: 1 };
    expect(() => k.sgd(rt, -1, p, g, 0.1)).toThrow(ValueError);
    expect(() => k.sgd(rt, 1.5, p, g, 0.1)).toThrow(/sgd: n must be a non-negative integer/);
    expect(() => k.sgd(rt, 4, p, g, Number.NaN)).toThrow(/learningRate must be a finite number, got NaN/);
    expect(() => k.sgd(rt, 4, rt.memory.buffer.byteLength - 8, g, 0.1)).toThrow(
      /param spans bytes .* outside the heap/,
    );
    expect(() => k.sgd(rt, 4, 8, g, 0.1)).toThrow(/outside the heap/);
    expect(() => k.sgd(rt, 4, p + 2, g, 0.1)).toThrow(/misaligned/);
    expect(() => k.sgd(rt, 4, p, p + 8, 0.1)).toThrow(/buffers param .* and grad .* overlap/);
    expect(() => k.sgdMomentum(rt, 4, p, g, v, 0.1, 1.5)).toThrow(/momentum must be in \[0, 1\]/);
    expect(() => k.adam(rt, 4, p, g, m, v, 0, { ...o, beta1: 1 })).toThrow(/adam: beta1 must be in \[0, 1\)/);
    expect(() => k.adam(rt, 4, p, g, m, v, 0, { ...o, beta2: 0.99999999 })).toThrow(/beta2 must be in \[0, 1\)/);
    expect(() => k.adam(rt, 4, p, g, m, v, 0, { ...o, step: 0 })).toThrow(/step must be an integer ≥ 1, got 0/);
    expect(() => k.adam(rt, 4, p, g, m, m, 0, o)).toThrow(/overlap/);
    expect(() => k.nadam(rt, 4, p, g, m, v, { ...o, muProduct: 2 })).toThrow(/muProduct must be in \[0, 1\]/);
    expect(() => k.rmsprop(rt, 4, p, g, v, 0, 0, 0.1, 0.9, 0.5, 1e-7)).toThrow(
      /momentum 0.5 needs the momentum buffer/,
    );
    expect(() => k.adagrad(rt, 4, p, g, v, 0.1, -1)).toThrow(/epsilon must be in \[0, Infinity\]/);
    expect(() => k.addPenaltyGrad(rt, 4, p, g, -0.1, 0)).toThrow(/regularizer: l1/);
    expect(() => k.clipByNorm(rt, 4, g, 0)).toThrow(/clipNorm must be a positive finite number/);
    expect(() => k.clipByValue(rt, 4, g, 1, -1)).toThrow(/hi must be in \[1, Infinity\]/);
    expect(() => k.clipByGlobalNorm(rt, [{ n: 4, grad: 4 }], 1)).toThrow(/outside the heap/);
    // Nothing was modified by the rejected calls.
    expect(Array.from(rt.read(p, 4))).toEqual([1, 2, 3, 4]);
    expect(Array.from(rt.read(g, 4))).toEqual([1, 1, 1, 1]);
  });

  it('nadamMuProduct equals the running product of nadamMu', () => {
    for (const psi of [1, 0.004]) {
      let prod = 1;
      for (let t = 1; t <= 1500; t++) {
        prod *= k.nadamMu(t, 0.9, psi);
        // Beyond t ≈ 300 the product is far below f64's normal range; only 1 − Π matters then.
        if (t < 4 || t % 97 === 0) {
          const tol = t < 300 ? { atol: 0, rtol: 1e-12 } : { atol: 1e-300, rtol: 1e-12 };
          assertClose([k.nadamMuProduct(t, 0.9, psi)], [prod], tol, `t=${t}`);
        }
      }
    }
  });
});
