/**
 * The playground's controller: builds a model from the form, trains it in a worker (the page stays
 * responsive), and shows live loss/accuracy curves, samples/s, the decision boundary (2-D sets),
 * sample predictions and the confusion matrix; stop, pause/resume, save/load.
 * `window.playground` exposes the state for the end-to-end test.
 */
import * as wg from 'wasmgrad';
import { liveChart } from './charts.js';
import { DATASETS, type Dataset, type DatasetName, loadDataset, oneHot } from './datasets.js';
import { type TuneOverrides, tunePanel } from './tune-panel.js';
import { argmaxRows, boundaryGrid, drawBoundary, renderConfusion, renderSamples } from './views.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SAVE_KEY = 'indexeddb://wasmgrad-playground';
const GRID = 64;

interface PlaygroundState {
  status: 'loading' | 'idle' | 'training' | 'paused' | 'done' | 'stopped' | 'error';
  epochs: number;
  logs: Record<string, number>;
  history: Record<string, number>[];
  samplesPerSecond: number;
  error?: string;
  loadedAccuracy?: number;
}

const state: PlaygroundState = { status: 'loading', epochs: 0, logs: {}, history: [], samplesPerSecond: 0 };
(window as unknown as { playground: PlaygroundState }).playground = state;

let data: Dataset | undefined;
let trainer: wg.worker.Trainer | undefined;
let boundaryBusy = false;
const lossChart = liveChart($('loss-chart'), 'loss', ['loss', 'val_loss']);
const accChart = liveChart($('acc-chart'), 'accuracy', ['accuracy', 'val_accuracy']);

function setStatus(status: PlaygroundState['status'], detail = '') {
  state.status = status;
  $('status').textContent = detail ? `${status}: ${detail}` : status;
  const training = status === 'training' || status === 'paused';
  ($('train') as HTMLButtonElement).disabled = training || status === 'loading';
  ($('stop') as HTMLButtonElement).disabled = !training;
  ($('pause') as HTMLButtonElement).disabled = !training;
  $('pause').textContent = status === 'paused' ? 'Resume' : 'Pause';
  const trained = status === 'done' || status === 'stopped';
  ($('save-idb') as HTMLButtonElement).disabled = !trained;
  ($('download') as HTMLButtonElement).disabled = !trained;
}

function fail(err: unknown) {
  state.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  setStatus('error', state.error);
  console.error(err);
}

function fillSelect(id: string, values: readonly string[], selected: string) {
  const select = $<HTMLSelectElement>(id);
  select.innerHTML = values
    .map((v) => `<option value="${v}"${v === selected ? ' selected' : ''}>${v}</option>`)
    .join('');
}

const num = (id: string) => Number($<HTMLInputElement>(id).value);

/** The model the form describes, for the current dataset (a tuning trial overrides units/dropout). */
function buildModel(d: Dataset, hp: TuneOverrides = {}): wg.Sequential {
  const activation = $<HTMLSelectElement>('activation').value as wg.ActivationName;
  const l2 = num('l2');
  const rate = hp.dropout ?? num('dropout');
  const kernelRegularizer = l2 > 0 ? wg.regularizers.l2(l2) : undefined;
  const layers: wg.layers.Layer[] = [];
  const image = d.shape.length === 3;
  if (image && $<HTMLInputElement>('cnn').checked) {
    layers.push(
      wg.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: d.shape }),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.flatten(),
    );
  } else if (image) {
    layers.push(wg.layers.flatten({ inputShape: d.shape }));
  }
  const hidden = $<HTMLInputElement>('hidden')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => hp.units ?? Number(s));
  if (hidden.some((u) => !Number.isInteger(u) || u <= 0)) {
    throw new wg.ValueError(
      'playground',
      `hidden layer sizes must be positive integers, got '${$<HTMLInputElement>('hidden').value}'`,
    );
  }
  hidden.forEach((units, i) => {
    layers.push(
      wg.layers.dense({
        units,
        activation,
        kernelRegularizer,
        ...(i === 0 && layers.length === 0 ? { inputShape: d.shape } : {}),
      }),
    );
    if (rate > 0) layers.push(wg.layers.dropout({ rate }));
  });
  layers.push(
    wg.layers.dense({
      units: d.classes,
      activation: 'softmax',
      ...(layers.length === 0 ? { inputShape: d.shape } : {}),
    }),
  );
  return wg.sequential(layers);
}

async function showBoundary(d: Dataset) {
  if (!trainer || !d.extent || boundaryBusy) return;
  boundaryBusy = true;
  try {
    const grid = boundaryGrid(d.extent, GRID);
    const out = await trainer.predict({ values: grid, shape: [GRID * GRID, 2] });
    drawBoundary($<HTMLCanvasElement>('boundary'), out.values, GRID, d);
  } catch {
    // The trainer was stopped or replaced meanwhile: the next epoch draws again.
  } finally {
    boundaryBusy = false;
  }
}

async function showPredictions(
  d: Dataset,
  source: { predict(x: wg.worker.TensorInput): Promise<{ values: Float32Array }> },
) {
  const out = await source.predict({ values: d.test.x, shape: [d.test.n, ...d.shape] });
  const predicted = argmaxRows(out.values, d.classes);
  renderConfusion($('confusion'), predicted, d.test.labels, d.classNames);
  if (d.shape.length === 3) renderSamples($('samples'), d, predicted, 16);
  if (d.extent) await showBoundary(d);
}

async function train() {
  if (!data) return;
  const d = data;
  try {
    await trainer?.terminate();
    const model = buildModel(d);
    const lr = num('lr');
    const optimizerName = $<HTMLSelectElement>('optimizer').value as keyof typeof wg.optimizers;
    model.compile({
      optimizer: wg.optimizers[optimizerName]({ learningRate: lr }),
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    lossChart.clear();
    accChart.clear();
    state.history = [];
    state.epochs = 0;
    $('samples').innerHTML = '';
    $('confusion').innerHTML = '';
    trainer = await wg.worker.spawn(model);
    const epochs = num('epochs');
    const batchSize = num('batch');
    setStatus('training', `0/${epochs} epochs`);
    let last = performance.now();
    let lastEpoch = -1;
    const x = await trainer.upload({ values: d.train.x, shape: [d.train.n, ...d.shape] });
    const y = await trainer.upload({ values: oneHot(d.train.labels, d.classes), shape: [d.train.n, d.classes] });
    const vx = await trainer.upload({ values: d.test.x, shape: [d.test.n, ...d.shape] });
    const vy = await trainer.upload({ values: oneHot(d.test.labels, d.classes), shape: [d.test.n, d.classes] });
    const result = await trainer.fit(x, y, {
      epochs,
      batchSize,
      validationData: [vx, vy],
      progressIntervalMs: 100,
      onProgress: ({ epoch, logs }) => {
        const now = performance.now();
        const trainedEpochs = epoch - lastEpoch;
        state.samplesPerSecond = (trainedEpochs * d.train.n) / Math.max((now - last) / 1000, 1e-6);
        last = now;
        lastEpoch = epoch;
        state.epochs = epoch + 1;
        state.logs = logs;
        state.history.push({ epoch, ...logs });
        lossChart.push(epoch + 1, [logs.loss, logs.val_loss]);
        accChart.push(epoch + 1, [logs.accuracy ?? logs.acc, logs.val_accuracy ?? logs.val_acc]);
        $('stats').textContent =
          `epoch ${epoch + 1}/${epochs}  loss ${logs.loss?.toFixed(4)}  accuracy ${(logs.accuracy ?? 0).toFixed(4)}  ` +
          `val_accuracy ${(logs.val_accuracy ?? 0).toFixed(4)}  ${Math.round(state.samplesPerSecond)} samples/s`;
        if (state.status === 'training') setStatus('training', `${epoch + 1}/${epochs} epochs`);
        void showBoundary(d);
      },
    });
    await showPredictions(d, trainer);
    setStatus(result.stopped ? 'stopped' : 'done', `${state.epochs} epochs`);
  } catch (err) {
    fail(err);
  }
}

async function togglePause() {
  if (!trainer) return;
  if (state.status === 'paused') {
    await trainer.resume();
    setStatus('training');
  } else {
    await trainer.pause();
    setStatus('paused');
  }
}

async function save(target: string) {
  if (!trainer) return;
  try {
    const model = await trainer.pull();
    await model.save(target);
    $('status').textContent = `${state.status}: saved to ${target}`;
  } catch (err) {
    fail(err);
  }
}

async function load() {
  if (!data) return;
  const d = data;
  try {
    const model = (await wg.loadModel(SAVE_KEY)) as wg.Sequential;
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const xs = wg.tensor(d.test.x, [d.test.n, ...d.shape]);
    const ys = wg.tensor(oneHot(d.test.labels, d.classes), [d.test.n, d.classes]);
    const logs = model.evaluate(xs, ys);
    state.loadedAccuracy = logs.accuracy;
    $('status').textContent = `loaded ${SAVE_KEY}: test accuracy ${logs.accuracy?.toFixed(4)}`;
    xs.dispose();
    ys.dispose();
  } catch (err) {
    fail(err);
  }
}

async function selectDataset(name: DatasetName) {
  setStatus('loading', name);
  data = await loadDataset(name);
  const image = data.shape.length === 3;
  $('cnn-row').hidden = !image;
  $<HTMLCanvasElement>('boundary').hidden = image;
  if (image) {
    $<HTMLInputElement>('hidden').value = '64';
    $<HTMLInputElement>('epochs').value = '5';
    $<HTMLInputElement>('lr').value = '0.001';
    $<HTMLSelectElement>('optimizer').value = 'adam';
  }
  setStatus('idle', `${name}: ${data.train.n} training and ${data.test.n} test samples`);
}

async function start() {
  await wg.ready();
  $('runtime').textContent = `${wg.runtime().simd ? 'SIMD128' : 'scalar'} build · ${
    globalThis.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'
  }`;
  fillSelect('dataset', DATASETS, 'spirals');
  fillSelect(
    'activation',
    wg.layers.ACTIVATION_NAMES.filter((a) => a !== 'softmax'),
    'tanh',
  );
  fillSelect('optimizer', Object.keys(wg.optimizers), 'adam');
  $('dataset').addEventListener('change', () => {
    selectDataset($<HTMLSelectElement>('dataset').value as DatasetName).catch(fail);
  });
  $('train').addEventListener('click', () => void train());
  $('stop').addEventListener('click', () => void trainer?.stop());
  $('pause').addEventListener('click', () => void togglePause().catch(fail));
  $('save-idb').addEventListener('click', () => void save(SAVE_KEY));
  $('download').addEventListener('click', () => void save('downloads://wasmgrad-playground'));
  $('load-idb').addEventListener('click', () => void load());
  tunePanel($('tune-panel'), { data: () => data, buildModel });
  await selectDataset('spirals');
}

start().catch(fail);
