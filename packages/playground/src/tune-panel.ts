/**
 * The playground's "Tune" panel: a hyperparameter search (`wg.tune.search`) over the model the
 * form describes. The user picks which of learning rate, hidden units, dropout and optimizer to
 * search (ranges, choices), the method (Bayesian, random, grid), trials, parallel workers and epochs
 * per trial; each trial trains in its own worker. A live table shows every trial (running ones
 * too), the best highlighted, beside a chart of the best-so-far val_accuracy; "Use best" copies the
 * best parameters into the model form so Train uses them. `window.playgroundTune` exposes the state
 * for the end-to-end test.
 */
import uPlot from 'uplot';
import * as wg from 'wasmgrad';
import { type Dataset, oneHot } from './datasets.js';
import './tune-panel.css';

/** Hyperparameters a trial overrides in the model form (the rest is read from the form). */
export interface TuneOverrides {
  /** Units of every hidden dense layer (the form's layer count is kept). */
  units?: number;
  dropout?: number;
}

/** What the panel needs from the playground. */
export interface TuneHost {
  /** The current dataset (undefined while loading). */
  data(): Dataset | undefined;
  /** The form's model for a dataset, with a trial's overrides (not compiled). */
  buildModel(d: Dataset, hp: TuneOverrides): wg.Sequential;
}

/** One row of the live table. */
export interface TuneRow {
  trial: number;
  state: 'running' | wg.tune.TrialState;
  params: wg.tune.Params;
  value?: number;
  seconds?: number;
}

/** The panel's state, as `window.playgroundTune`. */
export interface TuneState {
  status: 'idle' | 'running' | 'stopping' | 'done' | 'stopped' | 'error';
  rows: TuneRow[];
  best?: { trial: number; value: number; params: wg.tune.Params };
  /** Wall time of the search so far, seconds. */
  seconds: number;
  error?: string;
}

const OBJECTIVE = 'val_accuracy';

const TEMPLATE = `
<h2>Tune</h2>
<div class="tune-grid">
  <fieldset>
    <legend>Search space</legend>
    <label><input type="checkbox" id="tune-lr-on" data-testid="tune-lr-on" checked /> Learning rate (log)
      <span class="range"><input id="tune-lr-low" data-testid="tune-lr-low" type="number" value="0.001" step="any" />
      – <input id="tune-lr-high" data-testid="tune-lr-high" type="number" value="0.1" step="any" /></span></label>
    <label><input type="checkbox" id="tune-units-on" data-testid="tune-units-on" checked /> Hidden units (log int)
      <span class="range"><input id="tune-units-low" data-testid="tune-units-low" type="number" value="4" min="1" />
      – <input id="tune-units-high" data-testid="tune-units-high" type="number" value="64" min="1" /></span></label>
    <label><input type="checkbox" id="tune-dropout-on" data-testid="tune-dropout-on" /> Dropout
      <span class="range"><input id="tune-dropout-low" data-testid="tune-dropout-low" type="number" value="0" step="0.05" min="0" max="0.9" />
      – <input id="tune-dropout-high" data-testid="tune-dropout-high" type="number" value="0.5" step="0.05" min="0" max="0.9" /></span></label>
    <label><input type="checkbox" id="tune-opt-on" data-testid="tune-opt-on" /> Optimizer</label>
    <div id="tune-opts" class="choices"></div>
  </fieldset>
  <fieldset>
    <legend>Search</legend>
    <label>Method <select id="tune-method" data-testid="tune-method">
      <option value="bayesian" selected>bayesian</option><option value="random">random</option><option value="grid">grid</option>
    </select></label>
    <label>Trials <input id="tune-trials" data-testid="tune-trials" type="number" value="12" min="1" /></label>
    <label>Parallel workers <input id="tune-parallel" data-testid="tune-parallel" type="number" value="2" min="1" /></label>
    <label>Epochs per trial <input id="tune-epochs" data-testid="tune-epochs" type="number" value="20" min="1" /></label>
    <label>Seed <input id="tune-seed" data-testid="tune-seed" type="number" value="1" /></label>
    <label><input type="checkbox" id="tune-median" data-testid="tune-median" /> Stop poor trials early (median rule)</label>
    <div class="buttons">
      <button type="button" id="tune-start" data-testid="tune-start">Start search</button>
      <button type="button" id="tune-use-best" data-testid="tune-use-best" disabled>Use best</button>
    </div>
    <p id="tune-status" data-testid="tune-status">idle</p>
  </fieldset>
  <div id="tune-chart" data-testid="tune-chart"></div>
</div>
<table id="tune-table" data-testid="tune-table" class="tune-table"></table>
`;

const fmt = (v: unknown): string =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Number(v.toPrecision(3)).toString()) : String(v);

/** Typed errors by class: a minified build renames the classes, so `err.name` may read 'o'. */
const ERROR_CLASSES: [string, new (...args: never[]) => Error][] = [
  ['NonFiniteLossError', wg.NonFiniteLossError],
  ['WorkerError', wg.WorkerError],
  ['ShapeError', wg.ShapeError],
  ['ValueError', wg.ValueError],
];

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const name = ERROR_CLASSES.find(([, cls]) => err.constructor === cls)?.[0] ?? err.name;
  return `${name}: ${err.message}`;
}

/** Renders the Tune panel into `root` and wires it to the playground through `host`. */
export function tunePanel(root: HTMLElement, host: TuneHost): TuneState {
  root.innerHTML = TEMPLATE;
  const el = <T extends HTMLElement>(id: string) => root.querySelector(`#${id}`) as T;
  const num = (id: string) => Number(el<HTMLInputElement>(id).value);
  const checked = (id: string) => el<HTMLInputElement>(id).checked;
  const state: TuneState = { status: 'idle', rows: [], seconds: 0 };
  (window as unknown as { playgroundTune: TuneState }).playgroundTune = state;

  el('tune-opts').innerHTML = Object.keys(wg.optimizers)
    .map(
      (name) =>
        `<label><input type="checkbox" value="${name}"${['adam', 'sgd', 'rmsprop'].includes(name) ? ' checked' : ''} /> ${name}</label>`,
    )
    .join('');

  const chartData: (number | null)[][] = [[], [], []];
  const chart = new uPlot(
    {
      title: `best ${OBJECTIVE} so far`,
      width: 360,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'trial' }, {}],
      series: [
        { label: 'trial' },
        { label: OBJECTIVE, stroke: '#999', width: 0, points: { show: true, size: 6 } },
        { label: 'best so far', stroke: '#2ca02c', width: 2 },
      ],
    },
    chartData as uPlot.AlignedData,
    el('tune-chart'),
  );

  let study: wg.tune.Study | undefined;
  let started = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  /** performance.now() when each running trial started (its seconds cell counts up). */
  const startedAt = new Map<number, number>();

  const setStatus = (status: TuneState['status'], detail = '') => {
    state.status = status;
    el('tune-status').textContent = detail ? `${status}: ${detail}` : status;
    const busy = status === 'running' || status === 'stopping';
    const start = el<HTMLButtonElement>('tune-start');
    start.textContent = busy ? 'Stop search' : 'Start search';
    start.disabled = status === 'stopping';
    el<HTMLButtonElement>('tune-use-best').disabled = state.best === undefined;
  };

  /** The search space from the form (throws a ValueError when nothing is selected). */
  const space = (): wg.tune.SpaceSpec => {
    const s: wg.tune.SpaceSpec = {};
    if (checked('tune-lr-on')) s.lr = wg.tune.logUniform(num('tune-lr-low'), num('tune-lr-high'));
    if (checked('tune-units-on')) s.units = wg.tune.int(num('tune-units-low'), num('tune-units-high'), { log: true });
    if (checked('tune-dropout-on')) s.dropout = wg.tune.uniform(num('tune-dropout-low'), num('tune-dropout-high'));
    if (checked('tune-opt-on')) {
      const names = [...root.querySelectorAll<HTMLInputElement>('#tune-opts input:checked')].map((i) => i.value);
      s.optimizer = wg.tune.choice(names);
    }
    if (Object.keys(s).length === 0) throw new wg.ValueError('playground.tune', 'select at least one hyperparameter');
    return s;
  };

  const renderTable = () => {
    const names = study?.space.names ?? [];
    const bestTrial = state.best?.trial;
    const head = `<tr><th>trial</th>${names.map((n) => `<th>${n}</th>`).join('')}<th>${OBJECTIVE}</th><th>state</th><th>seconds</th></tr>`;
    const body = state.rows
      .map((r) => {
        const cls = [r.trial === bestTrial ? 'best' : '', r.state].filter(Boolean).join(' ');
        return `<tr class="${cls}" data-trial="${r.trial}" data-state="${r.state}"><td>${r.trial}</td>${names
          .map((n) => `<td>${r.params[n] === undefined ? '' : fmt(r.params[n])}</td>`)
          .join('')}<td>${r.value === undefined ? '' : r.value.toFixed(4)}</td><td>${r.state}</td><td>${
          r.seconds !== undefined
            ? r.seconds.toFixed(1)
            : startedAt.has(r.trial)
              ? `${((performance.now() - (startedAt.get(r.trial) as number)) / 1000).toFixed(1)}…`
              : ''
        }</td></tr>`;
      })
      .join('');
    el('tune-table').innerHTML = head + body;
  };

  const renderChart = () => {
    const done = state.rows.filter((r) => r.state !== 'running').sort((a, b) => a.trial - b.trial);
    for (const column of chartData) column.length = 0;
    let best: number | undefined;
    for (const r of done) {
      if (r.value !== undefined && r.state === 'complete' && (best === undefined || r.value > best)) best = r.value;
      (chartData[0] as number[]).push(r.trial + 1);
      (chartData[1] as (number | null)[]).push(r.value ?? null);
      (chartData[2] as (number | null)[]).push(best ?? null);
    }
    chart.setData(chartData as uPlot.AlignedData);
  };

  const finishedDetail = () => {
    const done = state.rows.filter((r) => r.state !== 'running').length;
    const best = state.best ? `, best ${OBJECTIVE} ${state.best.value.toFixed(4)} (trial ${state.best.trial})` : '';
    return `${done}/${num('tune-trials')} trials in ${state.seconds.toFixed(1)} s${best}`;
  };

  const run = async () => {
    const d = host.data();
    if (!d) return;
    state.rows = [];
    state.best = undefined;
    state.error = undefined;
    state.seconds = 0;
    startedAt.clear();
    try {
      const maxTrials = num('tune-trials');
      const epochs = num('tune-epochs');
      const batchSize = Number((document.getElementById('batch') as HTMLInputElement | null)?.value ?? 32);
      const formLr = Number((document.getElementById('lr') as HTMLInputElement | null)?.value ?? 0.01);
      const formOptimizer = (document.getElementById('optimizer') as HTMLSelectElement | null)?.value ?? 'adam';
      study = new wg.tune.Study({
        space: space(),
        direction: 'maximize',
        method: el<HTMLSelectElement>('tune-method').value as wg.tune.Method,
        seed: num('tune-seed'),
      });
      const current = study;
      renderTable();
      renderChart();
      started = performance.now();
      timer = setInterval(() => {
        state.seconds = (performance.now() - started) / 1000;
        if (state.rows.some((r) => r.state === 'running')) renderTable();
      }, 250);
      setStatus('running', `0/${maxTrials} trials`);
      // Trials call build in trial order, so the k-th call is trial k: shown as running until onTrial.
      let building = 0;
      await wg.tune.search({
        study: current,
        maxTrials,
        parallel: num('tune-parallel'),
        epochs,
        batchSize,
        objective: OBJECTIVE,
        earlyStopping: checked('tune-median') ? 'median' : false,
        data: {
          x: { values: d.train.x, shape: [d.train.n, ...d.shape] },
          y: { values: oneHot(d.train.labels, d.classes), shape: [d.train.n, d.classes] },
          validationData: [
            { values: d.test.x, shape: [d.test.n, ...d.shape] },
            { values: oneHot(d.test.labels, d.classes), shape: [d.test.n, d.classes] },
          ],
        },
        build: (hp) => {
          startedAt.set(building, performance.now());
          state.rows.push({ trial: building++, state: 'running', params: hp });
          renderTable();
          const model = host.buildModel(d, {
            units: hp.units as number | undefined,
            dropout: hp.dropout as number | undefined,
          });
          const name = (hp.optimizer as string | undefined) ?? formOptimizer;
          const learningRate = (hp.lr as number | undefined) ?? formLr;
          model.compile({
            optimizer: wg.optimizers[name as keyof typeof wg.optimizers]({ learningRate }),
            loss: 'categoricalCrossentropy',
            metrics: ['accuracy'],
          });
          return model;
        },
        onTrial: (trial) => {
          const row: TuneRow = {
            trial: trial.number,
            state: trial.state,
            params: trial.params,
            value: trial.value,
            seconds: trial.durationMs / 1000,
          };
          const i = state.rows.findIndex((r) => r.trial === trial.number);
          if (i >= 0) state.rows[i] = row;
          else state.rows.push(row);
          const best = current.best;
          if (best?.value !== undefined) state.best = { trial: best.number, value: best.value, params: best.params };
          state.seconds = (performance.now() - started) / 1000;
          renderTable();
          renderChart();
          if (state.status === 'running') setStatus('running', finishedDetail());
        },
      });
      state.seconds = (performance.now() - started) / 1000;
      setStatus(current.stopped ? 'stopped' : 'done', finishedDetail());
    } catch (err) {
      state.error = errorText(err);
      setStatus('error', state.error);
      console.error(err);
    } finally {
      clearInterval(timer);
    }
  };

  /** Copies the best parameters into the model form (hidden units keep the form's layer count). */
  const useBest = () => {
    const params = state.best?.params;
    if (!params) return;
    const input = (id: string) => document.getElementById(id) as HTMLInputElement | null;
    const set = (id: string, value: string) => {
      const target = input(id);
      if (!target) return;
      target.value = value;
      target.dispatchEvent(new Event('change', { bubbles: true }));
    };
    if (params.lr !== undefined) set('lr', fmt(params.lr));
    if (params.dropout !== undefined) set('dropout', fmt(params.dropout));
    if (params.optimizer !== undefined) set('optimizer', String(params.optimizer));
    if (params.units !== undefined) {
      const layers = Math.max(1, (input('hidden')?.value ?? '').split(',').filter((s) => s.trim()).length);
      set('hidden', Array.from({ length: layers }, () => String(params.units)).join(','));
    }
    el('tune-status').textContent = `${state.status}: form set to trial ${state.best?.trial} (${Object.entries(params)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')})`;
  };

  el('tune-start').addEventListener('click', () => {
    if (state.status === 'running') {
      // No new trials start; the running ones finish (each is a short fit).
      study?.stop();
      setStatus('stopping', 'waiting for the running trials');
    } else {
      void run();
    }
  });
  el('tune-use-best').addEventListener('click', useBest);
  // Images train far slower than the 2-D sets: fewer epochs per trial by default.
  document.getElementById('dataset')?.addEventListener('change', (e) => {
    const image = (e.target as HTMLSelectElement).value === 'fashion-mnist';
    el<HTMLInputElement>('tune-epochs').value = image ? '2' : '20';
  });
  return state;
}
