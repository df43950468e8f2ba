/** Kept for modules that import matMul from its first home; the op lives in ops/matmul.ts. */
export { matMul } from './ops/matmul.js';
