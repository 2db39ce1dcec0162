#!/usr/bin/env node
// The package.json "bin": loads the TypeScript CLI through tsx, from any working directory.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./cli.ts', import.meta.url).href);
