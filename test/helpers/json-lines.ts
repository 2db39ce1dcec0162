import { vi } from 'vitest';

/** Collects the JSON lines (Powertools logs and EMF metrics, on stdout and stderr) written while `work` runs. */
export const jsonLinesDuring = async (work: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> => {
  const lines: string[] = [];
  const capture = (chunk: unknown): boolean => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await work();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
};
