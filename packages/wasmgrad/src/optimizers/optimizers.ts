import { ValueError } from '../errors.js';
import * as k from '../runtime/kernels/optim.js';
import type { Runtime } from '../runtime/runtime.js';
import { checkPositive, checkUnit, Optimizer, type OptimizerArgs } from './optimizer.js';

export { Optimizer, type OptimizerArgs, type OptimizerState } from './optimizer.js';

/** Stochastic gradient descent, optionally with (Nesterov) momentum (Keras `SGD`). */
export class SGD extends Optimizer {
  readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  constructor(args: OptimizerArgs & { momentum?: number; nesterov?: boolean } = {}) {
    super(args, 0.01);
    this.momentum = args.momentum ?? 0;
    this.nesterov = args.nesterov ?? false;
    checkUnit('SGD', 'momentum', this.momentum);
  }
  protected get stateCount() {
    return this.momentum > 0 ? 1 : 0;
  }
  protected update(rt: Runtime, p: number, g: number, n: number): void {
    if (this.momentum === 0) k.sgd(rt, n, p, g, this.learningRate);
    else if (this.nesterov) k.sgdNesterov(rt, n, p, g, this.s(0), this.learningRate, this.momentum);
    else k.sgdMomentum(rt, n, p, g, this.s(0), this.learningRate, this.momentum);
  }
  override getConfig() {
    return { ...super.getConfig(), momentum: this.momentum, nesterov: this.nesterov };
  }
}

interface AdamArgs extends OptimizerArgs {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  amsgrad?: boolean;
}

/** The Adam family's moment options (β1, β2, ε) with Keras defaults and range checks. */
abstract class MomentOptimizer extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(args: AdamArgs, name: string, defaultDecay = 0) {
    super({ ...args, weightDecay: args.weightDecay ?? defaultDecay }, 0.001);
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
    checkUnit(name, 'beta1', this.beta1);
    checkUnit(name, 'beta2', this.beta2);
    checkPositive(name, 'epsilon', this.epsilon, true);
  }
  /** The options every Adam-family kernel wrapper takes, for step t. */
  protected moments(t: number) {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, step: t };
  }
  override getConfig() {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Adam (Kingma & Ba 2015), Keras formulation; `AdamW` adds decoupled weight decay (Loshchilov & Hutter 2019). */
export class Adam extends MomentOptimizer {
  readonly className: string = 'Adam';
  readonly amsgrad: boolean;
  constructor(args: AdamArgs = {}, defaultDecay = 0) {
    super(args, 'Adam', defaultDecay);
    this.amsgrad = args.amsgrad ?? false;
  }
  protected get stateCount() {
    return this.amsgrad ? 3 : 2;
  }
  protected override get decoupledDecay() {
    return false;
  }
  protected update(rt: Runtime, p: number, g: number, n: number, t: number): void {
    const vhat = this.amsgrad ? this.s(2) : 0;
    k.adam(rt, n, p, g, this.s(0), this.s(1), vhat, { ...this.moments(t), weightDecay: this.weightDecay });
  }
  override getConfig() {
    return { ...super.getConfig(), amsgrad: this.amsgrad };
  }
}

/** Adam with decoupled weight decay (Keras `AdamW`, default weightDecay 0.004). */
export class AdamW extends Adam {
  override readonly className = 'AdamW';
  constructor(args: AdamArgs = {}) {
    super(args, 0.004);
  }
}

/** RMSprop (Hinton 2012), Keras formulation, with momentum and the centered variant. */
export class RMSprop extends Optimizer {
  readonly className = 'RMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  constructor(args: OptimizerArgs & { rho?: number; momentum?: number; epsilon?: number; centered?: boolean } = {}) {
    super(args, 0.001);
    this.rho = args.rho ?? 0.9;
    this.momentum = args.momentum ?? 0;
    this.epsilon = args.epsilon ?? 1e-7;
    this.centered = args.centered ?? false;
    checkUnit('RMSprop', 'rho', this.rho);
    checkUnit('RMSprop', 'momentum', this.momentum);
  }
  protected get stateCount() {
    return 3;
  }
  protected update(rt: Runtime, p: number, g: number, n: number): void {
    k.rmsprop(
      rt,
      n,
      p,
      g,
      this.s(0),
      this.centered ? this.s(1) : 0,
      this.momentum > 0 ? this.s(2) : 0,
      this.learningRate,
      this.rho,
      this.momentum,
      this.epsilon,
    );
  }
  override getConfig() {
    return {
      ...super.getConfig(),
      rho: this.rho,
      momentum: this.momentum,
      epsilon: this.epsilon,
      centered: this.centered,
    };
  }
}

/** Adagrad (Duchi et al. 2011), Keras formulation (accumulator starts at 0.1). */
export class Adagrad extends Optimizer {
  readonly className = 'Adagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  constructor(args: OptimizerArgs & { initialAccumulatorValue?: number; epsilon?: number } = {}) {
    super(args, 0.001);
    this.initialAccumulatorValue = args.initialAccumulatorValue ?? 0.1;
    this.epsilon = args.epsilon ?? 1e-7;
    checkPositive('Adagrad', 'initialAccumulatorValue', this.initialAccumulatorValue, true);
  }
  protected get stateCount() {
    return 1;
  }
  protected override initialState() {
    return this.initialAccumulatorValue;
  }
  protected update(rt: Runtime, p: number, g: number, n: number): void {
    k.adagrad(rt, n, p, g, this.s(0), this.learningRate, this.epsilon);
  }
  override getConfig() {
    return { ...super.getConfig(), initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

/** Adadelta (Zeiler 2012), Keras formulation. */
export class Adadelta extends Optimizer {
  readonly className = 'Adadelta';
  readonly rho: number;
  readonly epsilon: number;
  constructor(args: OptimizerArgs & { rho?: number; epsilon?: number } = {}) {
    super(args, 0.001);
    this.rho = args.rho ?? 0.95;
    this.epsilon = args.epsilon ?? 1e-7;
    checkUnit('Adadelta', 'rho', this.rho);
  }
  protected get stateCount() {
    return 2;
  }
  protected update(rt: Runtime, p: number, g: number, n: number): void {
    k.adadelta(rt, n, p, g, this.s(0), this.s(1), this.learningRate, this.rho, this.epsilon);
  }
  override getConfig() {
    return { ...super.getConfig(), rho: this.rho, epsilon: this.epsilon };
  }
}

/** Adamax (Kingma & Ba 2015, §7), Keras formulation. */
export class Adamax extends MomentOptimizer {
  readonly className = 'Adamax';
  constructor(args: AdamArgs = {}) {
    super(args, 'Adamax');
  }
  protected get stateCount() {
    return 2;
  }
  protected update(rt: Runtime, p: number, g: number, n: number, t: number): void {
    k.adamax(rt, n, p, g, this.s(0), this.s(1), this.moments(t));
  }
}

/** Nadam (Dozat 2016), Keras formulation with its momentum schedule. */
export class Nadam extends MomentOptimizer {
  readonly className = 'Nadam';
  constructor(args: AdamArgs = {}) {
    super(args, 'Nadam');
  }
  protected get stateCount() {
    return 2;
  }
  protected update(rt: Runtime, p: number, g: number, n: number, t: number): void {
    k.nadam(rt, n, p, g, this.s(0), this.s(1), this.moments(t));
  }
}

/** Optimizer factories with Keras/tfjs option names: `wg.optimizers.adam({ learningRate: 1e-3 })`. */
export const optimizers = {
  sgd: (args?: ConstructorParameters<typeof SGD>[0]) => new SGD(args),
  adam: (args?: AdamArgs) => new Adam(args),
  adamw: (args?: AdamArgs) => new AdamW(args),
  rmsprop: (args?: ConstructorParameters<typeof RMSprop>[0]) => new RMSprop(args),
  adagrad: (args?: ConstructorParameters<typeof Adagrad>[0]) => new Adagrad(args),
  adadelta: (args?: ConstructorParameters<typeof Adadelta>[0]) => new Adadelta(args),
  adamax: (args?: AdamArgs) => new Adamax(args),
  nadam: (args?: AdamArgs) => new Nadam(args),
};

export type OptimizerName = keyof typeof optimizers;

/** An optimizer object, or its name ('adam', Keras' 'Adam'), with default options. */
export type OptimizerIdentifier = Optimizer | OptimizerName | string;

/** Resolves an optimizer identifier; unknown names throw a ValueError listing the known ones. */
export function getOptimizer(id: OptimizerIdentifier, op = 'compile'): Optimizer {
  if (id instanceof Optimizer) return id;
  const name = typeof id === 'string' ? id.toLowerCase() : '';
  if (!Object.hasOwn(optimizers, name)) {
    throw new ValueError(op, `unknown optimizer '${String(id)}'; known: ${Object.keys(optimizers).join(', ')}`);
  }
  return optimizers[name as OptimizerName]();
}
