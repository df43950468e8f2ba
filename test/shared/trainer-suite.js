// One suite of worker-training checks run unchanged in Node (test/node/trainer-suite.test.ts),
// Deno (test/deno/trainer_suite_test.ts) and headless Chromium (test/browser/checks.js), against
// the built package handed in as `wg`: train in a worker with progress events, stop mid-fit within
// one batch, pull weights whose predictions equal the worker's, several trainers at once isolated,
// data uploaded once, and a worker killed mid-fit rejecting the pending fit within a second with a
// typed error. Plain JavaScript with no imports so that every runtime loads it as it is.

/** Throws `message` unless `cond`. */
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** The bits of float values, so that equality means bit for bit (and -0 ≠ 0, NaN = NaN). */
const bits = (values) => Array.from(new Uint32Array(Float32Array.from(values).buffer)).join();

/** Two interleaved spirals, `n` points each, as [2n, 2] inputs and one-hot [2n, 2] targets. */
export function spirals(n) {
  const xs = [];
  const ys = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const r = (i / n) * 1.0 + 0.05;
      const t = (i / n) * 2.5 * Math.PI + c * Math.PI;
      xs.push(r * Math.cos(t), r * Math.sin(t));
      ys.push(c === 0 ? 1 : 0, c === 0 ? 0 : 1);
    }
  }
  return { x: { values: xs, shape: [2 * n, 2] }, y: { values: ys, shape: [2 * n, 2] } };
}

/** A promise and when it settled. */
function settled(p) {
  return p.then(
    (value) => ({ ok: true, value, at: performance.now() }),
    (error) => ({ ok: false, error, at: performance.now() }),
  );
}

/** Resolves after `ms`. */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The checks, as `{ name, run }`; `run()` resolves (optionally with a note to print) or throws.
 * `env.runtime` names the runtime in the check names; `env.spawnOptions` is merged into every
 * spawn (Node passes the compiled worker entry); `env.sharedMemory` says whether the trainer can
 * share its stop flag with the worker here (SharedArrayBuffer that may cross to a worker).
 */
export function trainerChecks(wg, env) {
  const trainers = [];
  /** A spirals classifier (2-16-16-2) made with `seed`, spawned into a worker. */
  async function spawnSpirals(seed, options = {}) {
    await wg.ready();
    wg.setSeed(seed);
    const model = wg.sequential([
      wg.layers.dense({ units: 16, activation: 'tanh', inputShape: [2] }),
      wg.layers.dense({ units: 16, activation: 'tanh' }),
      wg.layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    const trainer = await wg.worker.spawn(model, {
      compile: { optimizer: wg.optimizers.adam({ learningRate: 0.02 }), loss: 'categoricalCrossentropy' },
      ...env.spawnOptions,
      ...options,
    });
    trainers.push(trainer);
    return trainer;
  }
  /** Runs `fn` and ends every worker it started, whatever happens. */
  const withTrainers = (fn) => async () => {
    try {
      return await fn();
    } finally {
      for (const t of trainers.splice(0)) await t.terminate();
    }
  };
  const name = (what) => `${env.runtime} trainer suite · ${what}`;
  const probe = {
    values: Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i * 0.37) * 1.2),
    shape: [64, 2],
  };

  /**
   * Starts an endless fit; resolves once its first progress event arrived, with `{ fit }` (a
   * promise of the fit's settlement, wrapped so that resolving with it does not wait for it).
   */
  async function endlessFit(trainer, data, args = {}) {
    let first = () => {};
    const progressed = new Promise((resolve) => {
      first = resolve;
    });
    const fit = settled(
      trainer.fit(data.x, data.y, { epochs: 1_000_000, batchSize: 8, onProgress: () => first(), ...args }),
    );
    await progressed;
    return { fit };
  }

  /** stop() in the middle of an epoch; checks the fit ends within one batch (or one second). */
  async function stopMidFit(seed, options) {
    const trainer = await spawnSpirals(seed, options);
    // 800 samples in batches of 8: 100 batches per epoch, so a stop lands mid-epoch.
    const { fit } = await endlessFit(trainer, spirals(400));
    await sleep(30);
    const t0 = performance.now();
    const { batches } = await trainer.stop();
    const result = await fit;
    assert(result.ok, `the fit failed: ${result.error}`);
    const history = result.value;
    assert(history.stopped === true, 'the fit does not say it was stopped');
    assert(history.batches >= batches, `the fit ran ${history.batches} batches, fewer than ${batches} before stop()`);
    const after = history.batches - batches;
    const ms = result.at - t0;
    assert(ms < 1000, `the fit ended ${ms.toFixed(0)} ms after stop()`);
    // The trainer is usable again at once.
    const p = await trainer.predict(probe);
    assert(p.shape.join() === '64,2', `predict after stop: shape ${p.shape}`);
    return { after, batches: history.batches, ms };
  }

  return [
    {
      name: name('fit in a worker with progress events, pulled predictions equal the worker’s'),
      run: withTrainers(async () => {
        const trainer = await spawnSpirals(1);
        const { x, y } = spirals(50);
        const events = [];
        const history = await trainer.fit(x, y, {
          epochs: 20,
          batchSize: 10,
          seed: 3,
          progressIntervalMs: 0,
          onProgress: (e) => events.push(e),
        });
        assert(history.epoch.length === 20 && !history.stopped, `fit ran ${history.epoch.length} epochs`);
        assert(history.batches === 20 * 10, `fit ran ${history.batches} batches, expected 200`);
        assert(events.map((e) => e.epoch).join() === history.epoch.join(), 'progress epochs differ from the History');
        assert(bits(events.map((e) => e.logs.loss)) === bits(history.history.loss), 'progress losses differ');
        const losses = history.history.loss;
        assert(losses[19] < losses[0], `loss did not fall: ${losses[0]} → ${losses[19]}`);
        const pulled = await trainer.pull();
        try {
          const remote = await trainer.predict(probe);
          const here = pulled.predict(wg.tensor(probe.values, probe.shape));
          assert(remote.shape.join() === here.shape.join(), `shapes ${remote.shape} and ${here.shape}`);
          assert(bits(remote.values) === bits(here.dataSync()), 'worker and pulled predictions differ');
          const weights = await trainer.getWeights();
          const local = pulled.getWeights();
          assert(weights.length === local.length, 'pulled model has another number of weights');
          for (const [i, w] of weights.entries())
            assert(bits(w.values) === bits(local[i].dataSync()), `weight ${i} differs`);
        } finally {
          pulled.dispose();
        }
      }),
    },
    {
      name: name('stop() mid-fit lands within one batch'),
      run: withTrainers(async () => {
        const r = await stopMidFit(2, {});
        if (env.sharedMemory) {
          // The stop bit is read after every batch: only the batch running at the request may end after it.
          assert(r.after <= 1, `${r.after} batches ended after stop() (shared stop flag)`);
        }
        return `${r.after} batch(es) after stop(), fit ended ${r.ms.toFixed(1)} ms later (${env.sharedMemory ? 'shared flag' : 'messages'})`;
      }),
    },
    {
      name: name('stop() without shared memory (messages only) ends the fit within a second'),
      run: withTrainers(async () => {
        const r = await stopMidFit(4, { sharedMemory: false });
        return `fit ended ${r.ms.toFixed(1)} ms after stop()`;
      }),
    },
    {
      name: name('several trainers at once stay isolated'),
      run: withTrainers(async () => {
        const { x, y } = spirals(60);
        const args = { epochs: 8, batchSize: 8, seed: 11 };
        const [a, b, c] = await Promise.all([spawnSpirals(5), spawnSpirals(5), spawnSpirals(6)]);
        const cBefore = await c.getWeights();
        // a and b train the same model on the same data at the same time while c answers predictions.
        const [ha, hb] = await Promise.all([a.fit(x, y, args), b.fit(x, y, args), c.predict(probe), c.predict(x)]);
        assert(bits(ha.history.loss) === bits(hb.history.loss), 'two identical fits at once gave different losses');
        const [wa, wb, cAfter] = await Promise.all([a.getWeights(), b.getWeights(), c.getWeights()]);
        for (const [i, w] of wa.entries())
          assert(bits(w.values) === bits(wb[i].values), `weight ${i} differs between a and b`);
        for (const [i, w] of cAfter.entries())
          assert(bits(w.values) === bits(cBefore[i].values), `c's weight ${i} moved`);
        assert(bits(wa[0].values) !== bits(cBefore[0].values), 'a did not train');
        // Calls in flight at once on one trainer each carry their own data (their staging buffers
        // are not shared while in use): c's answers equal the pulled model's for each input.
        const inputs = [0, 1, 2, 3].map((k) => ({
          values: Float32Array.from({ length: 2 * 16 }, (_, i) => Math.cos(i * 0.7 + k)),
          shape: [16, 2],
        }));
        const answers = await Promise.all(inputs.map((input) => c.predict(input)));
        const pulledC = await c.pull();
        try {
          for (const [k, input] of inputs.entries()) {
            const here = pulledC.predict(wg.tensor(input.values, input.shape)).dataSync();
            assert(bits(answers[k].values) === bits(here), `concurrent predict ${k} answered for other data`);
          }
        } finally {
          pulledC.dispose();
        }
        // Stopping one leaves the others running.
        const { fit: fa } = await endlessFit(a, { x, y });
        const { fit: fc } = await endlessFit(c, { x, y });
        await a.stop();
        const ra = await fa;
        assert(ra.ok && ra.value.stopped, 'a did not stop');
        const w1 = await c.getWeights();
        await sleep(100);
        const w2 = await c.getWeights();
        assert(bits(w1[0].values) !== bits(w2[0].values), 'c stopped training when a was stopped');
        await c.stop();
        assert((await fc).ok, 'c failed');
      }),
    },
    {
      name: name('data uploaded once trains exactly like data sent with each fit'),
      run: withTrainers(async () => {
        const { x, y } = spirals(60);
        const args = { epochs: 3, batchSize: 8, seed: 13 };
        const [sent, kept] = await Promise.all([spawnSpirals(7), spawnSpirals(7)]);
        const [ux, uy] = await Promise.all([kept.upload(x), kept.upload(y)]);
        assert(ux.shape.join() === '120,2' && uy.shape.join() === '120,2', `uploaded shapes ${ux.shape}, ${uy.shape}`);
        for (let i = 0; i < 2; i++) {
          const [hs, hk] = await Promise.all([sent.fit(x, y, args), kept.fit(ux, uy, args)]);
          assert(bits(hs.history.loss) === bits(hk.history.loss), `fit ${i}: losses differ`);
        }
        const [ws, wk] = await Promise.all([sent.getWeights(), kept.getWeights()]);
        for (const [i, w] of ws.entries()) assert(bits(w.values) === bits(wk[i].values), `weight ${i} differs`);
        const [es, ek] = await Promise.all([sent.evaluate(x, y), kept.evaluate(ux, uy)]);
        assert(bits([es.loss]) === bits([ek.loss]), 'evaluate differs');
        await ux.dispose();
        let caught;
        try {
          await kept.fit(ux, uy, args);
        } catch (err) {
          caught = err;
        }
        assert(
          caught instanceof wg.RuntimeStateError,
          `a disposed upload: expected a RuntimeStateError, got ${caught}`,
        );
        let foreign;
        try {
          await sent.predict(uy);
        } catch (err) {
          foreign = err;
        }
        assert(foreign instanceof wg.ValueError, `another trainer's upload: expected a ValueError, got ${foreign}`);
      }),
    },
    {
      name: name('a worker that crashes mid-fit rejects the pending fit within a second with a WorkerError'),
      run: withTrainers(async () => {
        const entry = new URL('./crashing-entry.js', import.meta.url);
        const trainer = await spawnSpirals(10, { entry });
        const { fit } = await endlessFit(trainer, spirals(100));
        const t0 = performance.now();
        const channel = new BroadcastChannel('wasmgrad-suite-crash');
        channel.postMessage('crash');
        channel.close();
        const result = await fit;
        assert(!result.ok, 'the fit resolved although its worker crashed');
        assert(result.error instanceof wg.WorkerError, `expected a WorkerError, got ${result.error}`);
        assert(/worker\.fit: the worker failed: .*crashed on purpose/.test(result.error.message), result.error.message);
        const ms = result.at - t0;
        assert(ms < 1000, `the pending fit was rejected ${ms.toFixed(0)} ms after the crash`);
        const later = await settled(trainer.predict(probe));
        assert(
          later.error instanceof wg.WorkerError,
          `a call after the crash: expected a WorkerError, got ${later.error}`,
        );
        return `rejected ${ms.toFixed(1)} ms after the crash was requested`;
      }),
    },
    {
      name: name('killing the worker mid-fit rejects the pending fit within a second with a WorkerError'),
      run: withTrainers(async () => {
        const trainer = await spawnSpirals(8);
        const { fit } = await endlessFit(trainer, spirals(100));
        const t0 = performance.now();
        await trainer.terminate();
        const result = await fit;
        assert(!result.ok, 'the fit resolved after its worker was killed');
        assert(result.error instanceof wg.WorkerError, `expected a WorkerError, got ${result.error}`);
        assert(result.error.name === 'WorkerError', `error name ${result.error.name}`);
        assert(/worker\.fit: the worker was terminated/.test(result.error.message), result.error.message);
        const ms = result.at - t0;
        assert(ms < 1000, `the pending fit was rejected ${ms.toFixed(0)} ms after the kill`);
        const later = await settled(trainer.predict(probe));
        assert(
          later.error instanceof wg.WorkerError,
          `a call after the kill: expected a WorkerError, got ${later.error}`,
        );
        return `rejected ${ms.toFixed(1)} ms after the kill`;
      }),
    },
  ];
}
