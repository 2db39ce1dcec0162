#!/usr/bin/env node
// The package.json "bin". From the repository (bin/cli.ts beside this file) it
// runs the TypeScript sources through tsx, so an old build in dist/ is never
// what runs; tsx is given this repository's tsconfig so that a tsconfig.json in
// the caller's directory cannot change how the CLI compiles. From the installed
// package (which ships dist/ and not the sources) it runs the compiled CLI,
// after checking its optional peer dependencies, which a middleware-only
// install of hookwarden does not have.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const source = new URL('./cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  await import(source.href);
} else {
  // Keep in step with the CLI's imports and with peerDependencies in package.json.
  const peers = ['commander', 'dynalite', '@aws-sdk/client-cloudformation', '@aws-sdk/client-wafv2'];
  const require = createRequire(import.meta.url);
  const missing = peers.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    process.stderr.write(
      `hookwarden: the command line needs ${missing.map((name) => `"${name}"`).join(', ')}, optional peer dependencies of hookwarden that are not installed: npm install --save-dev ${missing.join(' ')}\n`,
    );
    process.exit(2);
  }
  await import(new URL('../dist/bin/cli.js', import.meta.url).href);
}
