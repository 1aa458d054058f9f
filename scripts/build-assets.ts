import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildAssets, type BuildAssetsOptions } from '../src/http/assets.ts';

/** `node --import tsx scripts/build-assets.ts [--force] [--no-minify] [--out-dir DIR]`: build the browser bundles. */
export { buildAssets };

function parseArgs(argv: readonly string[]): BuildAssetsOptions {
  const options: BuildAssetsOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--force') options.force = true;
    else if (arg === '--no-minify') options.minify = false;
    else if (arg === '--out-dir') options.outDir = argv[++i];
    else throw new Error(`Unknown argument ${arg}. Usage: build-assets [--force] [--no-minify] [--out-dir DIR]`);
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  buildAssets(parseArgs(process.argv.slice(2))).then(
    async (result) => {
      const ms = Math.round(performance.now() - started);
      if (result.skipped) {
        console.log(`build-assets: ${path.relative(process.cwd(), result.outDir) || '.'} is up to date (${ms} ms)`);
        return;
      }
      console.log(`build-assets: built ${result.files.length} files into ${path.relative(process.cwd(), result.outDir) || '.'} in ${ms} ms`);
      for (const file of result.files.filter((f) => /\.(js|css)$/.test(f))) {
        const { size } = await stat(path.join(result.outDir, file));
        console.log(`  ${file.padEnd(24)} ${(size / 1024).toFixed(0).padStart(6)} kB`);
      }
    },
    (err: unknown) => {
      console.error('build-assets failed:', err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
