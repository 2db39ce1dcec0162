import { expect, it } from 'vitest';
import { prodSettings, synth } from './helpers.js';

/** Asset hashes change with every source edit; the snapshot is about infrastructure. */
const normalize = (template: unknown): unknown => JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}(\.zip)?/g, '<asset-hash>'));

it('synthesizes the production template as recorded (update deliberately: npx vitest run test/infra/snapshot.test.ts -u)', () => {
  expect(normalize(synth(prodSettings()).template().toJSON())).toMatchSnapshot();
});
