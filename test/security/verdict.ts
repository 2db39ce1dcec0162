// What every answer to hostile traffic must satisfy, and the loop that sends a
// family's cases and tallies the answers by status.
import { homedir, tmpdir } from 'node:os';
import type { HostileCase } from './signed.js';
import { exchange, type WireAnswer } from './wire.js';

/** What must never appear in an answer. */
export interface Forbidden {
  /** Secrets as configured and in every encoding a bug might print them. */
  readonly secrets: readonly string[];
  /** Names only the server knows (table names, paths). */
  readonly names: readonly string[];
}

/** Stack frames, module names, exception class names and source paths. */
const INTERNALS: readonly RegExp[] = [
  /\n\s+at \S/,
  /\bat (?:async )?[\w$.<>[\]]+ \(/,
  /node_modules|node:internal|file:\/\//,
  /\b[\w-]+\/[\w/.-]+\.(?:ts|js|mjs|cjs)\b/,
  /\.(?:ts|js|mjs|cjs):\d+/,
  /@aws-sdk|@middy|@aws-lambda-powertools|\bdynalite\b|\blevel(?:down|up)\b/i,
  /\b(?:TypeError|ReferenceError|RangeError|\w+Exception)\b|is not a function|Cannot read propert/,
];

/** Headers every answer carries (the security-headers middleware's set). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

const isErrorShape = (body: Buffer): boolean => {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: Record<string, unknown> };
    const error = parsed.error;
    return typeof error === 'object' && error !== null && ['code', 'message', 'requestId'].every((key) => typeof error[key] === 'string');
  } catch {
    return false;
  }
};

/**
 * Every problem with one answer, as short labels. `request` is what was sent:
 * a pattern the request itself contains may be echoed back and is not a leak.
 */
export const problemsOf = (answer: WireAnswer, request: Buffer, forbidden: Forbidden, head = false): string[] => {
  const problems: string[] = [];
  // An interim answer (100 Continue) is written by Node itself and carries no body or headers of its own.
  if (answer.status < 200) return problems;
  const text = answer.body.toString('latin1');
  const sent = request.toString('latin1');
  const everything = `${Object.entries(answer.headers)
    .map(([n, v]) => `${n}: ${v}`)
    .join('\n')}\n${text}`;
  if (answer.status >= 500) {
    let code: unknown;
    try {
      code = (JSON.parse(answer.body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    } catch {
      code = undefined;
    }
    if (!(answer.status === 503 && code === 'unavailable')) problems.push(`status ${answer.status}`);
  }
  for (const pattern of INTERNALS) if (pattern.test(text) && !pattern.test(sent)) problems.push(`internals ${pattern.source}`);
  const paths = [process.cwd(), tmpdir(), homedir(), '/work/', '/home/'];
  for (const name of [...forbidden.names, ...paths])
    if (text.includes(name) && !sent.includes(name)) problems.push(`internal name ${name}`);
  if (forbidden.secrets.some((secret) => everything.includes(secret))) problems.push('secret');
  // A HEAD answer has no body by definition.
  if (answer.status >= 400 && !head && !isErrorShape(answer.body)) problems.push(`${answer.status} not in the error shape`);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (answer.headers[name] !== value) problems.push(`no ${name} header`);
  return problems;
};

/** One failed expectation, with enough to reproduce it. */
export interface Finding {
  readonly kind: string;
  readonly problem: string;
  readonly status: string;
  /** The first bytes of the request and the answer, escaped. */
  readonly request: string;
  readonly answer: string;
}

/** The answers to one family: how many of each status (or `closed`, `held`), and what was wrong. */
export interface FamilyResult {
  readonly counts: Map<string, number>;
  readonly findings: Finding[];
}

/** Options of {@link sendAll}. */
export interface SendOptions {
  readonly port: number;
  readonly forbidden: Forbidden;
  /** Connections in flight at once. @default 8 */
  readonly concurrency?: number;
  /** How long a complete request may take to be answered. @default 30000 */
  readonly answerMs?: number;
  /** How long to wait on a request left incomplete on purpose. @default 500 */
  readonly holdMs?: number;
}

const excerpt = (bytes: Buffer): string => JSON.stringify(bytes.subarray(0, 120).toString('latin1'));

/** Sends every case over its own connection and checks every answer. */
export const sendAll = async (cases: Iterable<HostileCase>, options: SendOptions): Promise<FamilyResult> => {
  const counts = new Map<string, number>();
  const findings: Finding[] = [];
  const count = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const iterator = cases[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      const hostile = next.value;
      const result = await exchange(
        options.port,
        hostile.bytes,
        hostile.mayHold ? (options.holdMs ?? 500) : (options.answerMs ?? 30_000),
        hostile.head,
      );
      const report = (problem: string, status: string, answer = ''): void => {
        findings.push({ kind: hostile.kind, problem, status, request: excerpt(hostile.bytes), answer });
      };
      if (result.outcome !== 'answered') {
        count(result.outcome);
        if (result.outcome === 'held' && !hostile.mayHold) report('no answer in time', 'held');
      }
      for (const answer of result.answers) {
        count(String(answer.status));
        const problems = problemsOf(answer, hostile.bytes, options.forbidden, hostile.head);
        if (problems.length > 0) report(problems.join(' + '), String(answer.status), excerpt(answer.body));
      }
      if (result.garbage > 0) report(`${result.garbage} bytes that are not HTTP`, 'garbage');
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return { counts, findings };
};

/** Findings grouped by problem, most frequent first: a count, the kinds of request that caused it, and one example. */
export const summarize = (findings: readonly Finding[]): string[] => {
  const groups = new Map<string, { count: number; kinds: Map<string, number>; example: Finding }>();
  for (const finding of findings) {
    const group = groups.get(finding.problem) ?? { count: 0, kinds: new Map<string, number>(), example: finding };
    group.count += 1;
    group.kinds.set(finding.kind, (group.kinds.get(finding.kind) ?? 0) + 1);
    groups.set(finding.problem, group);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].count - a[1].count)
    .map(([problem, { count, kinds, example }]) => {
      const top = [...kinds.entries()].sort((a, b) => b[1] - a[1]);
      const named = top
        .slice(0, 6)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', ');
      return `${count} × ${problem} [${named}${top.length > 6 ? `, +${top.length - 6} more kinds` : ''}] e.g. ${example.request} answered ${example.answer}`;
    });
};
