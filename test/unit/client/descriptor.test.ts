/** The descriptor embedded in the client must be the .proto's: regenerate with generate.mjs when not. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, no type declarations
import { descriptorSource } from '../../../src/client/generated/generate.mjs';

describe('embedded native descriptor', () => {
  it('matches proto/blaze/v1/native.proto (run node src/client/generated/generate.mjs)', () => {
    const proto = readFileSync(new URL('../../../proto/blaze/v1/native.proto', import.meta.url), 'utf8');
    const embedded = readFileSync(
      new URL('../../../src/client/generated/native-descriptor.ts', import.meta.url),
      'utf8',
    );
    expect(embedded).toBe(descriptorSource(proto));
  });
});
