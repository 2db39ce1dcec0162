#!/usr/bin/env node
// The package.json "bin": runs the TypeScript CLI through tsx, from any working
// directory. tsx is given this repository's tsconfig so that a tsconfig.json in
// the caller's directory cannot change how the CLI compiles.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import(new URL('./cli.ts', import.meta.url).href);
