import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The Dockerfile read as text against the lockfile: no registry is reachable here to build the image, so
 * what can be checked without one is checked — the stages, the user, what the runtime copies, and that the
 * build installs only the compiler and the type packages it reads, at the lockfile's versions.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
const ignore = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8');
const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; scripts: Record<string, string> };
const lock = JSON.parse(readFileSync(resolve(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };

/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const stages = instructions.reduce<string[][]>((all, line) => (line.startsWith('FROM ') ? [...all, [line]] : (all[all.length - 1]!.push(line), all)), []);
const runtime = stages[stages.length - 1]!;
const installs = instructions.filter((line) => line.startsWith('RUN ')).flatMap((line) => line.split('&&').map((part) => part.trim()));

describe('Dockerfile', () => {
  it('runs the bot as uid 10001 with switchboard as its entry point and a health check', () => {
    expect(runtime).toContain('USER switchboard');
    expect(runtime.some((line) => /useradd .*--uid 10001 switchboard/.test(line))).toBe(true);
    expect(runtime).toContain('ENTRYPOINT ["switchboard"]');
    expect(runtime).toContain('COPY bin/docker-switchboard.sh /usr/local/bin/switchboard');
    expect(runtime.find((line) => line.startsWith('HEALTHCHECK'))).toMatch(/CMD \["switchboard", "health"\]$/);
    expect(runtime).toContain('WORKDIR /app/data');
    expect(runtime.find((line) => line.startsWith('ENV '))).toContain('SWITCHBOARD_DB=/app/data/switchboard.db');
  });

  it('copies everything the runtime needs: the runtime packages, the compiled bot and package.json', () => {
    expect(runtime).toContain('COPY --from=deps /app/node_modules /app/node_modules');
    expect(runtime).toContain('COPY --from=build /app/dist /app/dist');
    expect(runtime).toContain('COPY package.json /app/package.json');
    // The build compiles the entry point and both platform factories (they are loaded by name at start).
    for (const entry of ['src/cli.ts', 'adapters/slack/factory.ts', 'adapters/discord/factory.ts']) expect(manifest.scripts.build).toContain(entry);
    expect(readFileSync(resolve(ROOT, 'bin/docker-switchboard.sh'), 'utf8')).toContain('exec node /app/dist/src/cli.js "$@"');
  });

  it('installs no test tools, agent CLIs or tsx anywhere, and only the lockfile versions of the compiler and types', () => {
    const npmInstalls = installs.filter((part) => /\bnpm (ci|install)\b/.test(part));
    expect(npmInstalls.length).toBeGreaterThan(2);
    for (const part of npmInstalls.filter((p) => /\bnpm ci\b/.test(p))) expect(part).toContain('--omit=dev');
    const named = npmInstalls.filter((p) => /\bnpm install\b/.test(p)).flatMap((p) => p.split(/\s+/).filter((word) => /^@?[a-z0-9][\w./-]*@\d/.test(word)));
    expect(named.map((spec) => spec.replace(/@[^@]+$/, '')).sort()).toEqual(['@types/better-sqlite3', '@types/ssh2', 'typescript']);
    for (const spec of named) {
      const name = spec.replace(/@[^@]+$/, '');
      expect(`${name}@${lock.packages[`node_modules/${name}`]?.version}`).toBe(spec);
    }
    for (const dev of ['vitest', 'opencode-ai', '@anthropic-ai/claude-code', 'tsx', 'fast-check']) expect(dockerfile).not.toContain(dev);
    // The runtime's `npm ci --omit=dev` leaves tsx and esbuild out only if the lockfile says they are dev-only.
    expect(manifest.dependencies.tsx).toBeUndefined();
    expect(lock.packages['node_modules/tsx']?.dev).toBe(true);
    expect(lock.packages['node_modules/esbuild']?.dev).toBe(true);
  });

  it('sends the build only its sources: no node_modules, .git, data or .env', () => {
    const lines = ignore.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(lines[0]).toBe('*');
    expect(lines.filter((line) => line.startsWith('!')).sort()).toEqual(['!adapters/', '!bin/docker-switchboard.sh', '!package-lock.json', '!package.json', '!src/', '!tsconfig.json']);
  });
});
