/** The memory-limit and slow-consumer keys of the configuration schema (src/config/schema.ts). */
import { describe, expect, it } from 'vitest';
import { configSchema, defaultConfig } from '../../../src/config/schema.js';
import { DEFAULT_POLICY } from '../../../src/core/index.js';

const parse = (core: object) => configSchema.parse({ core }, 'config').core;

describe('memory configuration', () => {
  it('defaults to 512 MiB global, 64 MiB per address, block', () => {
    const core = defaultConfig().core;
    expect(core.globalMemoryLimit).toBe(512 * 1024 * 1024);
    expect(core.memoryLimit).toBe(64 * 1024 * 1024);
    expect(core.slowConsumerPolicy).toBe('block');
    expect(core.conflationKey).toBe(DEFAULT_POLICY.conflationKey);
  });

  it('accepts sizes with units, the new policies and per-address overrides', () => {
    const core = parse({
      globalMemoryLimit: '64MiB',
      memoryLimit: 1000,
      slowConsumerPolicy: 'conflate',
      conflationKey: 'sym',
      overrides: [{ match: 'topic://p.>', policy: { memoryLimit: '8 MB', slowConsumerPolicy: 'block' } }],
    });
    expect(core.globalMemoryLimit).toBe(64 * 1024 * 1024);
    expect(core.memoryLimit).toBe(1000);
    expect(core.slowConsumerPolicy).toBe('conflate');
    expect(core.conflationKey).toBe('sym');
    expect(core.overrides[0]!.policy).toEqual({ memoryLimit: 8_000_000, slowConsumerPolicy: 'block' });
    expect(parse({ globalMemoryLimit: '1.5 GiB' }).globalMemoryLimit).toBe(1.5 * 1024 ** 3);
  });

  it('refuses bad values with one line naming the key', () => {
    expect(() => parse({ globalMemoryLimit: '64XB' })).toThrow(
      /config\.core\.globalMemoryLimit: expected a size/,
    );
    expect(() => parse({ memoryLimit: -1 })).toThrow(/core\.memoryLimit/);
    expect(() => parse({ slowConsumerPolicy: 'nope' })).toThrow(/drop-oldest, drop-newest, block, conflate/);
    expect(() => parse({ conflationKey: 3 })).toThrow(/core\.conflationKey/);
  });
});
