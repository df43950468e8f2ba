/** summary, getWeights/setWeights, toJSON/modelFromJSON, trainOnBatch, regularizers, initializers. */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

function build() {
  return wg.sequential([
    wg.layers.dense({
      units: 5,
      activation: { name: 'leakyRelu', alpha: 0.1 },
      inputShape: [4],
      kernelInitializer: 'heNormal',
      kernelRegularizer: wg.regularizers.l2(1e-3),
    }),
    wg.layers.dense({ units: 3, useBias: false, kernelInitializer: wg.initializers.orthogonal({ gain: 2 }) }),
    wg.layers.activation({ activation: 'softmax' }),
  ]);
}

describe('model structure and serialization', () => {
  it('summary lists layers, output shapes and parameter counts', async () => {
    await wg.ready();
    const lines: string[] = [];
    const text = build().summary((l) => lines.push(l));
    expect(text).toMatch(/dense_\d+ \(Dense\)\s+\[null,5\]\s+25/);
    expect(text).toMatch(/\(Dense\)\s+\[null,3\]\s+15/);
    expect(text).toMatch(/Total params: 40/);
    expect(lines.join('\n')).toBe(text);
  });

  it('toJSON → modelFromJSON rebuilds the same topology; setWeights makes predictions equal', async () => {
    await wg.ready();
    const a = build();
    const json = JSON.stringify(a.toJSON());
    const b = wg.modelFromJSON(json);
    expect(JSON.stringify(b.toJSON())).toBe(json);
    b.setWeights(a.getWeights());
    const x = wg.tensor([0.1, -0.2, 0.3, 0.9, -1, 2, 0, 0.5], [2, 4]);
    expect(Array.from(b.predict(x).dataSync())).toEqual(Array.from(a.predict(x).dataSync()));
  });

  it('modelFromJSON rejects unknown classes, prototype keys and malformed input', () => {
    expect(() => wg.modelFromJSON('{')).toThrow(/invalid JSON/);
    expect(() => wg.modelFromJSON({ className: 'Functional' } as never)).toThrow(wg.ValueError);
    const evil = { className: 'Sequential', config: { layers: [{ className: '__proto__', config: {} }] } };
    expect(() => wg.modelFromJSON(evil as never)).toThrow(/unknown class '__proto__'/);
    const other = { className: 'Sequential', config: { layers: [{ className: 'Lambda', config: {} }] } };
    expect(() => wg.modelFromJSON(other as never)).toThrow(/unknown class 'Lambda'/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('setWeights validates count and shapes before writing anything', async () => {
    await wg.ready();
    const m = build();
    const before = m.getWeights().map((t) => Array.from(t.dataSync()));
    const ws = m.getWeights();
    expect(() => m.setWeights(ws.slice(1))).toThrow(/expected 3 tensors, got 2/);
    expect(() => m.setWeights([ws[0] as wg.Tensor, wg.zeros([4]), ws[2] as wg.Tensor])).toThrow(
      /has shape \[5\], got \[4\]/,
    );
    expect(m.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(before);
  });
});

describe('initializers and regularizers', () => {
  it('Glorot/He/LeCun scales and orthogonal columns', async () => {
    await wg.ready();
    const stats = (init: wg.Initializer, shape: number[]) => {
      const m = wg.sequential([
        wg.layers.dense({ units: shape[1] as number, inputShape: [shape[0] as number], kernelInitializer: init }),
      ]);
      const w = (m.getWeights()[0] as wg.Tensor).dataSync();
      let s = 0;
      let s2 = 0;
      for (const v of w) {
        s += v;
        s2 += v * v;
      }
      return { mean: s / w.length, std: Math.sqrt(s2 / w.length - (s / w.length) ** 2), w };
    };
    const g = stats(wg.initializers.glorotUniform({ seed: 1 }), [300, 200]);
    expect(g.std).toBeCloseTo(Math.sqrt(2 / 500), 3);
    const h = stats(wg.initializers.heNormal({ seed: 2 }), [400, 100]);
    expect(h.std).toBeCloseTo(Math.sqrt(2 / 400), 2);
    const l = stats(wg.initializers.lecunUniform({ seed: 3 }), [400, 100]);
    expect(l.std).toBeCloseTo(Math.sqrt(1 / 400), 3);
    const o = stats(wg.initializers.orthogonal({ seed: 4 }), [8, 4]).w;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let dot = 0;
        for (let r = 0; r < 8; r++) dot += (o[r * 4 + i] as number) * (o[r * 4 + j] as number);
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    }
    expect(() => wg.layers.dense({ units: 2, kernelInitializer: 'heNormall' })).toThrow(
      /unknown initializer 'heNormall'/,
    );
  });

  it('an L2 penalty adds λ·Σw² to the loss and 2λw to the gradient', async () => {
    await wg.ready();
    const make = (l2: number) => {
      wg.setSeed(8);
      const m = wg.sequential([
        wg.layers.dense({ units: 2, inputShape: [3], kernelRegularizer: l2 ? wg.regularizers.l2(l2) : undefined }),
      ]);
      m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      return m;
    };
    const x = wg.tensor([1, 2, 3, -1, 0, 1], [2, 3]);
    const y = wg.tensor([0.5, -0.5, 1, 0], [2, 2]);
    const plain = make(0).lossAndGradients(x, y);
    const reg = make(0.01);
    const w = Array.from((reg.getWeights()[0] as wg.Tensor).dataSync());
    const r = reg.lossAndGradients(x, y);
    expect(r.loss).toBeCloseTo(plain.loss + 0.01 * w.reduce((a, v) => a + v * v, 0), 5);
    const g0 = (plain.grads[0] as wg.Tensor).dataSync();
    const g1 = (r.grads[0] as wg.Tensor).dataSync();
    w.forEach((v, i) => {
      expect(g1[i]).toBeCloseTo((g0[i] as number) + 2 * 0.01 * v, 5);
    });
  });

  it('trainOnBatch takes one step and returns the batch loss', async () => {
    await wg.ready();
    const m = wg.sequential([wg.layers.dense({ units: 1, inputShape: [1] })]);
    m.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
    const x = wg.tensor([1, 2], [2, 1]);
    const y = wg.tensor([2, 4], [2, 1]);
    const first = m.trainOnBatch(x, y);
    let last = first;
    for (let i = 0; i < 50; i++) last = m.trainOnBatch(x, y);
    expect(last).toBeLessThan(first / 10);
  });
});
