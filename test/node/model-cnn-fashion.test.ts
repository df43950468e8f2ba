/**
 * The CNN on the real Fashion-MNIST files: conv16 3x3 relu → maxpool 2 → conv32 3x3 relu →
 * maxpool 2 → flatten → dense10 softmax, He-uniform kernels (ReLU, as the project's notes
 * prescribe), Adam 1e-3, batch 64, one full epoch, fixed seed. Training is bitwise repeatable, so
 * the seed fixes the result.
 *
 * Measured here: one full epoch gives 0.848 (seed 1) and 0.847 (seed 2) test accuracy (0.831 with
 * Glorot-uniform kernels); the first 12,000 samples alone give 0.789–0.802 (seeds 1–3), too close
 * to 0.80 to assert, so the test trains the full epoch (≈ 10 s of CPU). From the same initial
 * weights, 4 SGD steps match tfjs-layers on tfjs-backend-cpu to 1e-8 in every weight (8 Adam steps
 * to 1e-4 in the loss), so the 0.86 after one epoch is a property of this model and
 * schedule, not of the layers.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

describe('Fashion-MNIST CNN', () => {
  it('reaches ≥ 0.84 test accuracy after one epoch', async () => {
    await wg.ready();
    wg.setSeed(1);
    const { train, test } = await wg.data.fashionMnist();
    expect(train.x.shape).toEqual([60000, 28, 28, 1]);
    const model = wg.sequential([
      wg.layers.conv2d({
        filters: 16,
        kernelSize: 3,
        activation: 'relu',
        inputShape: [28, 28, 1],
        kernelInitializer: 'heUniform',
      }),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: 'heUniform' }),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.flatten(),
      wg.layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    model.compile({
      optimizer: wg.optimizers.adam({ learningRate: 1e-3 }),
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const t0 = performance.now();
    const history = await model.fit(train.x, train.y, { epochs: 1, batchSize: 64, seed: 1 });
    const seconds = (performance.now() - t0) / 1000;
    const { loss, accuracy } = model.evaluate(test.x, test.y, { batchSize: 1000 });
    console.log(
      `Fashion-MNIST CNN, 1 epoch: train loss ${history.history.loss?.[0]?.toFixed(4)}, test loss ${loss?.toFixed(4)}, ` +
        `test accuracy ${accuracy?.toFixed(4)}, ${(60000 / seconds).toFixed(0)} samples/s wall (not a benchmark)`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.84);
    for (const t of [train.x, train.y, test.x, test.y]) t.dispose();
    model.dispose();
  }, 180_000);
});
