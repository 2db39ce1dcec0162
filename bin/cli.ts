// `hookwarden`: parse, call, exit.
import '../local/quiet-aws-sdk.js';
import { run } from '../cli/program.js';

// `hookwarden deliveries | head` closes the pipe early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await run(process.argv);
