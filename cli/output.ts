import { terminalSafeJson } from './terminal.js';

/**
 * The command line's only way to print: standard output for results, standard
 * error for problems. (Shipped code never uses console.*.)
 */
export const output = {
  /** One line of result on standard output. */
  line(text = ''): void {
    process.stdout.write(`${text}\n`);
  },
  /** A `--json` result on standard output (DEL and C1 escaped too). */
  json(value: unknown): void {
    process.stdout.write(`${terminalSafeJson(value)}\n`);
  },
  /** Bytes exactly as given on standard output (`deliveries show --body` into a pipe). */
  bytes(data: Buffer): void {
    process.stdout.write(data);
  },
  /** Whether standard output is a terminal (escape request data) or a pipe or file (exact bytes). */
  toTerminal(): boolean {
    return process.stdout.isTTY === true;
  },
  /** One line on standard error. */
  error(text: string): void {
    process.stderr.write(`${text}\n`);
  },
  /** Text as is on standard output (commander's help). */
  write(text: string): void {
    process.stdout.write(text);
  },
  /** Text as is on standard error (commander's messages). */
  writeError(text: string): void {
    process.stderr.write(text);
  },
};
