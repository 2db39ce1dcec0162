/**
 * The command line's only way to print: standard output for results, standard
 * error for problems. (Shipped code never uses console.*.)
 */
export const output = {
  /** One line of result on standard output. */
  line(text = ''): void {
    process.stdout.write(`${text}\n`);
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
