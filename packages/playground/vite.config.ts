// The playground's Vite config: vite-plugin-wasm for the wasm modules (also inside the training
// worker), ES-module workers, and COOP/COEP headers on the dev and preview servers so the page is
// cross-origin isolated (SharedArrayBuffer: shared data and an instant stop flag for the worker).
import { defineConfig } from 'vite';
import wasm from 'vite-plugin-wasm';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [wasm()],
  worker: { format: 'es', plugins: () => [wasm()] },
  build: { target: 'es2022' },
  server: { headers: isolation },
  preview: { headers: isolation },
});
