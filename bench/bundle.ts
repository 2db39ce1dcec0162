// Builds a Lambda entry the way lib/constructs/webhook-functions.ts has the CDK bundle it
// (NodejsFunction: esbuild, ESM, minified with a source map of mappings only, node24, module before main, the require
// banner, nothing external). Keep the two in step. The CDK then rewrites the map's sources relative to the project
// (lib/constructs/function-defaults.ts); here they stay relative to outDir: the same map but for the paths' length.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What a build wrote. */
export interface Bundle {
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/**
 * Bundles `entry` (relative to the repository) into `outDir/index.mjs`; `sourcesContent: true` puts the
 * sources' text in the map, as esbuild does by default and the CDK's functions do not (bench/cold-start.ts compares).
 */
export const bundleLikeCdk = async (
  entry: string,
  outDir: string,
  options: { readonly sourcesContent?: boolean } = {},
): Promise<Bundle> => {
  const file = join(outDir, 'index.mjs');
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: true,
    sourcesContent: options.sourcesContent ?? false,
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'error',
  });
  const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('index.mjs'))?.[1];
  return { file, bytes: output?.bytes ?? 0, metafile: result.metafile };
};
