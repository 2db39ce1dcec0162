import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';

/** This module's file: `lib/constructs/paths.ts` in the repository, `dist/lib/constructs/paths.js` in the package. */
const HERE = import.meta.filename;
/** The repository root, or the package's `dist/`: where `functions/` is. */
export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * A Lambda entry point of Hookwarden's own (`functions/webhook/handler`), as a
 * file NodejsFunction can bundle: the TypeScript source in the repository, the
 * compiled JavaScript in an installed package (which ships no sources).
 */
export const functionEntry = (path: string): string => join(ROOT, `${path}${extname(HERE)}`);

/**
 * Where esbuild bundles from: the repository and its lockfile when there is
 * one; in an installed package none, so NodejsFunction finds the consumer's
 * own lockfile from the working directory (the package lies inside that project).
 */
export const bundlingRoot = (): Pick<NodejsFunctionProps, 'projectRoot' | 'depsLockFilePath'> =>
  existsSync(join(ROOT, 'package-lock.json')) ? { projectRoot: ROOT, depsLockFilePath: join(ROOT, 'package-lock.json') } : {};
