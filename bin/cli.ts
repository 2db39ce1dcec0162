// `hookwarden`: parse, call, exit.
import { run } from '../cli/program';

process.exitCode = await run(process.argv);
