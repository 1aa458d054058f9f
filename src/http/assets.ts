import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';

/**
 * Builds the browser side of Ordo's diagrams into public/build/: the bpmn-js viewer (operators' pages) and
 * modeler (analysts' editor), their CSS and fonts, and a copy of htmx, so that Ordo serves everything itself.
 *
 * The server calls this when the web role starts, and the tests' global setup calls it: when nothing under
 * src/modeler (or anything else the bundles were built from) changed since the last build, it returns at once.
 *
 * Usage: node --import tsx scripts/build-assets.ts [--force] [--no-minify] [--out-dir DIR]
 */

export interface BuildAssetsOptions {
  /** Where the files go; public/build by default. */
  outDir?: string;
  /** Minify the bundles (default true). */
  minify?: boolean;
  /** Build even when the outputs are newer than every input. */
  force?: boolean;
}

export interface BuildAssetsResult {
  outDir: string;
  /** Files written, relative to outDir (posix separators). */
  files: string[];
  /** True when the build was skipped because the outputs were up to date. */
  skipped: boolean;
}

interface Manifest {
  version: 1;
  minify: boolean;
  /** Inputs the bundles were built from, relative to the repository root. */
  inputs: string[];
  files: Record<string, { bytes: number; sha256: string }>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_OUT_DIR = path.join(ROOT, 'public', 'build');
const MANIFEST = 'manifest.json';
const MODELER_SRC = path.join(ROOT, 'src', 'modeler');
const LINT_CONFIG = path.join(MODELER_SRC, 'lint', 'bpmnlintrc.json');
const LINT_CONFIG_MODULE = 'virtual:ordo-bpmnlint-config';
const ORDO_LINT_PACKAGE = 'bpmnlint-plugin-ordo';
/** Inputs that a build always depends on, besides what esbuild reports. */
const FIXED_INPUTS = [
  'src/engine/model/ordo.json',
  'scripts/build-assets.ts',
  'package-lock.json',
  'node_modules/htmx.org/dist/htmx.min.js',
];

const requireFromRoot = createRequire(path.join(ROOT, 'package.json'));

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

async function mtimeMs(file: string): Promise<number | null> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return null;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

async function readManifest(outDir: string): Promise<Manifest | null> {
  try {
    const manifest = JSON.parse(await readFile(path.join(outDir, MANIFEST), 'utf8')) as Manifest;
    return manifest.version === 1 ? manifest : null;
  } catch {
    return null;
  }
}

/** Up to date: every output exists and the manifest (written last) is newer than every input. */
async function upToDate(outDir: string, minify: boolean): Promise<Manifest | null> {
  const manifest = await readManifest(outDir);
  if (!manifest || manifest.minify !== minify) return null;
  const builtAt = await mtimeMs(path.join(outDir, MANIFEST));
  if (builtAt === null) return null;
  for (const file of Object.keys(manifest.files)) {
    if ((await mtimeMs(path.join(outDir, file))) === null) return null;
  }
  const inputs = new Set([...manifest.inputs.map((i) => path.join(ROOT, i)), ...(await listFiles(MODELER_SRC)), ...FIXED_INPUTS.map((i) => path.join(ROOT, i))]);
  for (const input of inputs) {
    const changed = await mtimeMs(input);
    if (changed === null || changed > builtAt) return null;
  }
  return manifest;
}

/**
 * bpmnlint resolves rules at run time through a resolver; the browser has no node_modules, so the
 * configuration is compiled into a module that imports every enabled rule (bpmnlint's compile-config, the
 * step bpmnlint-pack-config wraps in rollup). esbuild bundles that module, mapping `bpmnlint-plugin-ordo/rules/*`
 * onto Ordo's TypeScript rules in src/modeler/lint/rules, so the rules and the modeler share one bundle.
 */
async function compileLintConfig(): Promise<string> {
  const compileConfig = requireFromRoot('bpmnlint/lib/support/compile-config') as (config: unknown, resolver?: unknown) => Promise<string>;
  const NodeResolver = requireFromRoot('bpmnlint/lib/resolver/node-resolver') as new (options: { require: NodeJS.Require }) => unknown;
  const config: unknown = JSON.parse(await readFile(LINT_CONFIG, 'utf8'));
  return compileConfig(config, new NodeResolver({ require: requireFromRoot }));
}

function lintConfigPlugin(compiled: string): Plugin {
  return {
    name: 'ordo-bpmnlint-config',
    setup(buildApi) {
      buildApi.onResolve({ filter: /^virtual:ordo-bpmnlint-config$/ }, () => ({ path: LINT_CONFIG_MODULE, namespace: 'ordo-lint' }));
      buildApi.onLoad({ filter: /.*/, namespace: 'ordo-lint' }, () => ({ contents: compiled, loader: 'js', resolveDir: ROOT, watchFiles: [LINT_CONFIG] }));
      buildApi.onResolve({ filter: new RegExp(`^${ORDO_LINT_PACKAGE}/rules/[a-z-]+$`) }, (args) => ({
        path: path.join(MODELER_SRC, 'lint', 'rules', `${args.path.slice(`${ORDO_LINT_PACKAGE}/rules/`.length)}.ts`),
      }));
    },
  };
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/**
 * Pre-compressed copies (.gz, .br) of the scripts and styles, for a static server that serves them as they are
 * (@fastify/static `preCompressed: true`): the modeler bundle is ~1.9 MB, ~0.45 MB with brotli. Brotli quality 9
 * instead of 11 keeps the build fast for a few percent more bytes.
 */
async function precompress(dir: string): Promise<void> {
  const files = (await listFiles(dir)).filter((file) => /\.(js|css)$/.test(file));
  await Promise.all(
    files.map(async (file) => {
      const content = await readFile(file);
      if (content.length < 1024) return;
      const [gz, br] = await Promise.all([
        gzipAsync(content, { level: 9 }),
        brotliAsync(content, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: content.length } }),
      ]);
      await Promise.all([writeFile(`${file}.gz`, gz), writeFile(`${file}.br`, br)]);
    }),
  );
}

function inputsOf(metafile: Metafile): string[] {
  const inputs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    // Dependencies change only with package-lock.json, which is a fixed input; namespaced inputs are virtual.
    if (input.includes('node_modules/') || input.includes(':')) continue;
    inputs.add(toPosix(path.relative(ROOT, path.resolve(ROOT, input))));
  }
  return [...inputs].sort();
}

async function describeFiles(dir: string): Promise<Manifest['files']> {
  const files: Manifest['files'] = {};
  for (const file of (await listFiles(dir)).sort()) {
    const content = await readFile(file);
    files[toPosix(path.relative(dir, file))] = { bytes: content.length, sha256: createHash('sha256').update(content).digest('hex').slice(0, 16) };
  }
  return files;
}

export async function buildAssets(options: BuildAssetsOptions = {}): Promise<BuildAssetsResult> {
  const outDir = path.resolve(options.outDir ?? DEFAULT_OUT_DIR);
  const minify = options.minify ?? true;
  if (!options.force) {
    const current = await upToDate(outDir, minify);
    if (current) return { outDir, files: Object.keys(current.files), skipped: true };
  }

  // Build beside the target and move the files in one by one (rename is atomic), so a server reading
  // public/build while another process rebuilds it never sees half a file.
  const staging = `${outDir}.staging-${process.pid}-${Date.now()}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: [
        { in: 'src/modeler/viewer.ts', out: 'viewer' },
        { in: 'src/modeler/modeler.ts', out: 'modeler' },
        { in: 'src/modeler/styles/viewer.css', out: 'viewer' },
        { in: 'src/modeler/styles/modeler.css', out: 'modeler' },
      ],
      outdir: staging,
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
      minify,
      sourcemap: 'linked',
      legalComments: minify ? 'linked' : 'eof',
      loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
      assetNames: 'assets/[name]-[hash]',
      define: { 'process.env.NODE_ENV': '"production"' },
      plugins: [lintConfigPlugin(await compileLintConfig())],
      metafile: true,
      logLevel: 'silent',
    });
    if (result.warnings.length > 0 && process.env.ORDO_BUILD_VERBOSE) {
      for (const warning of result.warnings) console.warn(`build-assets: ${warning.text}`);
    }
    await copyFile(requireFromRoot.resolve('htmx.org/dist/htmx.min.js'), path.join(staging, 'htmx.min.js'));
    await precompress(staging);

    const files = await describeFiles(staging);
    const manifest: Manifest = { version: 1, minify, inputs: inputsOf(result.metafile), files };

    const previous = await readManifest(outDir);
    await mkdir(outDir, { recursive: true });
    for (const file of Object.keys(files)) {
      await mkdir(path.dirname(path.join(outDir, file)), { recursive: true });
      await rename(path.join(staging, file), path.join(outDir, file));
    }
    for (const old of Object.keys(previous?.files ?? {})) {
      if (!(old in files)) await rm(path.join(outDir, old), { force: true });
    }
    // Written last: its time stamp says when the build was complete.
    await writeFile(path.join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return { outDir, files: Object.keys(files), skipped: false };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
