/** What CloudFormation's pseudo parameters resolve to in tests. */
export const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Gives a resource reference (`Ref`, or `Fn::GetAtt` with an attribute) a plain value. */
export type ReferenceResolver = (logicalId: string, attribute?: string) => string;

const byName: ReferenceResolver = (logicalId, attribute) => (attribute ? `${logicalId}.${attribute}` : logicalId);

/**
 * A template fragment with the intrinsics the stack uses (`Ref`, `Fn::GetAtt`,
 * `Fn::Join`, `Fn::Sub` without variables map) replaced by strings: pseudo parameters by {@link PSEUDO},
 * resources by `references` (their logical id by default). Anything else
 * throws, so a test never silently compares an unresolved intrinsic.
 */
export const resolveIntrinsics = (value: unknown, references: ReferenceResolver = byName): unknown => {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, references));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const [key, argument] = entries[0] ?? [];
  if (entries.length === 1 && (key === 'Ref' || key?.startsWith('Fn::'))) {
    if (key === 'Ref') return PSEUDO[argument as string] ?? references(argument as string);
    if (key === 'Fn::GetAtt') return references(...(argument as [string, string]));
    if (key === 'Fn::Sub' && typeof argument === 'string') {
      return argument.replace(
        /\$\{([^}]+)\}/g,
        (_all, name: string) => PSEUDO[name] ?? references(...(name.split('.') as [string, string?])),
      );
    }
    if (key === 'Fn::Join') {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((part) => resolveIntrinsics(part, references)).join(separator);
    }
    throw new Error(`unresolved intrinsic ${JSON.stringify(value)}`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, references)]));
};

/** IAM's `ArnLike` / `StringLike`: `*` any run of characters, `?` one. */
export const likeMatches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);
