import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The registry this project installs from carries only opencode's linux-x64 binaries, so `npm install`
 * writes a lock without the other platforms' optional packages and `npm ci` then refuses it. The lock lists
 * them (optional, by os and cpu, never fetched here); this test notices if a regenerated lock lost them.
 */
describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; optional?: boolean; os?: string[] }>;
  };
  const opencode = lock.packages['node_modules/opencode-ai'] as { optionalDependencies?: Record<string, string> };

  it('pins opencode-ai and records every one of its platform packages', () => {
    expect(lock.packages['node_modules/opencode-ai']?.version).toBe('1.18.33');
    const platforms = Object.keys(opencode.optionalDependencies ?? {});
    expect(platforms.length).toBeGreaterThan(5);
    for (const name of platforms) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, `${name} is missing from package-lock.json: npm ci will fail`).toBeDefined();
      expect(entry?.optional).toBe(true);
      expect(entry?.os?.length).toBeGreaterThan(0);
    }
  });
});
