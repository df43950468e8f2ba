/**
 * `downloads://name` in browser pages: the browser downloads ONE file, `name.safetensors`, the
 * single-file bundle (weights with the topology in their metadata), through an anchor with a Blob
 * URL. One file rather than tfjs's model.json + weights.bin pair: browsers ask before a page starts
 * a second download, and the one file loads back alone (`wg.loadModel(file)` with the File from an
 * `<input type="file">`, or its bytes).
 */
import { ValueError } from '../errors.js';

/** The file name a `downloads://name` save produces. */
export function downloadFileName(name: string): string {
  return `${name}.safetensors`;
}

/** Starts the download of `bytes` as `name.safetensors`; a ValueError outside a browser page. */
export async function downloadBundle(name: string, bytes: Uint8Array): Promise<void> {
  const op = `save downloads://${name}`;
  const doc = (globalThis as { document?: Document }).document;
  if (!doc?.createElement || typeof URL.createObjectURL !== 'function') {
    throw new ValueError(
      op,
      'downloads:// needs a browser page (a document); in Node or Deno save to a directory path, in a worker use indexeddb://',
    );
  }
  if (name === '' || /[/\\]/.test(name)) {
    throw new ValueError(op, `the name must be a non-empty file name without slashes, got '${name}'`);
  }
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  try {
    const a = doc.createElement('a');
    a.href = url;
    a.download = downloadFileName(name);
    a.style.display = 'none';
    doc.body.appendChild(a);
    a.click();
    a.remove();
  } finally {
    // The click has started the download; revoking right away can cancel it in some browsers.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
