import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** One package in a lockfile (v3): the fields npm ci reads. */
interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly [key: string]: unknown;
}

interface Lockfile {
  readonly packages: Record<string, LockEntry>;
}

/** Where `name` resolves from the package at `from` (a lockfile path), as Node walks up node_modules. */
const resolveIn = (packages: Lockfile['packages'], from: string, name: string): string | undefined => {
  const chain = from === '' ? [] : from.split(/(?:^|\/)node_modules\//).filter(Boolean);
  for (let depth = chain.length; depth >= 0; depth -= 1) {
    const base = chain
      .slice(0, depth)
      .map((segment) => `node_modules/${segment}`)
      .join('/');
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
  }
  return undefined;
};

/** What a package requires at install: its dependencies, optional ones if locked, its non-optional peers. */
const requiredOf = (entry: LockEntry): { name: string; optional: boolean }[] => [
  ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
  ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
  ...Object.keys(entry.peerDependencies ?? {})
    .filter((name) => !entry.peerDependenciesMeta?.[name]?.optional)
    .map((name) => ({ name, optional: false })),
];

/** Options of {@link consumerLockfile}. */
export interface ConsumerLockfileOptions {
  /** The repository's package-lock.json: every version a consumer gets, all in the npm cache after `npm ci`. */
  readonly repoLockfile: string;
  /** The packed tarball, relative to the consumer project (`file:` spec) and on disk (for its integrity). */
  readonly tarball: { readonly spec: string; readonly path: string };
  /** The package.json inside the tarball: its own dependencies and peers, not the repository's. */
  readonly packed: LockEntry & { readonly name: string; readonly version: string };
  /** The consumer's own direct dependencies besides hookwarden (e.g. aws-cdk-lib), at the repository's versions. */
  readonly alsoInstall?: readonly string[];
}

/**
 * A package-lock.json for a fresh consumer project that depends on the packed
 * tarball, so `npm ci --offline` installs it from the npm cache without the
 * registry (an offline `npm install` needs package metadata that `npm ci` never
 * caches). The tree is the closure of what the *packed* package.json declares
 * (dependencies and required peers, not optional ones), plus `alsoInstall` at
 * the consumer's root, each at the version and place the repository's lockfile
 * has it. Throws when something required is not in the repository's lockfile.
 */
export const consumerLockfile = (options: ConsumerLockfileOptions): { packageJson: object; lockfile: object } => {
  const repo = JSON.parse(readFileSync(options.repoLockfile, 'utf8')) as Lockfile;
  const packages: Record<string, LockEntry> = {};
  const pending: string[] = [];
  const visit = (from: string, name: string, optional: boolean): string | undefined => {
    const at = resolveIn(repo.packages, from, name);
    if (!at) {
      if (optional) return undefined;
      throw new Error(`${name} (required by ${from || 'the consumer'}) is not in the repository's package-lock.json`);
    }
    if (!packages[at]) {
      const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = repo.packages[at]!;
      packages[at] = entry;
      pending.push(at);
    }
    return at;
  };
  const rootDeps: Record<string, string> = { [options.packed.name]: options.tarball.spec };
  for (const name of options.alsoInstall ?? []) {
    const at = visit('', name, false)!;
    rootDeps[name] = packages[at]!.version!;
  }
  for (const { name, optional } of requiredOf(options.packed)) {
    // hookwarden sits at node_modules/hookwarden: its own needs resolve from the root.
    if (!visit('', name, optional) && !optional) throw new Error(`cannot resolve ${name}`);
  }
  while (pending.length > 0) {
    const at = pending.pop()!;
    for (const { name, optional } of requiredOf(packages[at]!)) visit(at, name, optional);
  }
  const integrity = `sha512-${createHash('sha512').update(readFileSync(options.tarball.path)).digest('base64')}`;
  const { name, version, dependencies, peerDependencies, peerDependenciesMeta, bin, engines, license } = options.packed;
  packages[`node_modules/${name}`] = {
    version,
    resolved: options.tarball.spec,
    integrity,
    ...(license ? { license } : {}),
    ...(dependencies ? { dependencies } : {}),
    ...(bin ? { bin } : {}),
    ...(engines ? { engines } : {}),
    ...(peerDependencies ? { peerDependencies } : {}),
    ...(peerDependenciesMeta ? { peerDependenciesMeta } : {}),
  };
  const packageJson = { name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: rootDeps };
  return {
    packageJson,
    lockfile: {
      name: 'consumer',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'consumer', version: '1.0.0', dependencies: rootDeps }, ...packages },
    },
  };
};
