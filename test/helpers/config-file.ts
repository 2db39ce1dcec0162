import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyDir } from './harness.js';

/** A fresh directory whose `hookwarden.config.json` is `document` (JSON-encoded). */
export const withConfigFile = (document: unknown): string => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'hookwarden.config.json'), JSON.stringify(document));
  return dir;
};
