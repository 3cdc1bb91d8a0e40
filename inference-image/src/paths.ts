import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package directory, found by walking up to package.json, so paths are
 * the same whether code runs compiled (dist/src) or from source under jest.
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return join(__dirname, '..', '..');
    dir = parent;
  }
  return dir;
})();

/** Where `npm run model` writes the demo model; the image bakes it at the same relative path. */
export const DEMO_MODEL_PATH = join(PACKAGE_ROOT, 'models', 'demo', 'model.onnx');

/** Where `npm run build` writes the second test model (scripts/make-second-model.ts); never baked into the image. */
export const SECOND_MODEL_PATH = join(PACKAGE_ROOT, 'models', 'second', 'model.onnx');
