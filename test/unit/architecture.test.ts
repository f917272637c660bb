import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const srcDir = join(root, 'src');
const adaptersDir = join(root, 'adapters');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(c|m)?[jt]sx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Drops comments so that an example in a doc comment is not taken for an import (string contents are kept). */
function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
}

/** Every module specifier: static imports and re-exports, side-effect imports, dynamic import() and require(). */
function specifiersOf(code: string): string[] {
  const text = stripComments(code);
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[\w*\s{},$]*?\s+from\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\bcreateRequire\b[\s\S]*?\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found;
}

const FORBIDDEN: Array<[RegExp, string]> = [
  [/^@slack\//, '@slack/*'],
  [/^discord\.js(\/|$)/, 'discord.js'],
  [/^discord-api-types(\/|$)/, 'discord-api-types'],
  [/^(node:)?readline(\/|$)/, 'readline'],
];

describe('the extractor (so the checks below cannot pass vacuously)', () => {
  it('finds every kind of import', () => {
    const sample = [
      "import { App } from '@slack/bolt';",
      "import type { Client } from 'discord.js';",
      "import * as rl from 'node:readline';",
      "import 'readline/promises';",
      "export { x } from '../adapters/console/index.js';",
      "const d = await import('discord-api-types/v10');",
      "const r = require(\"readline\");",
      'import {\n  a,\n  b,\n} from "@slack/web-api";',
      '// import { nope } from "discord.js";',
      '/* require("readline") */',
    ].join('\n');
    expect(specifiersOf(sample)).toEqual(
      expect.arrayContaining(['@slack/bolt', 'discord.js', 'node:readline', 'readline/promises', '../adapters/console/index.js', 'discord-api-types/v10', 'readline', '@slack/web-api']),
    );
    expect(specifiersOf(sample)).toHaveLength(8);
  });

  it('sees the real tree', () => {
    const files = sourceFiles(srcDir);
    expect(files.length).toBeGreaterThan(20);
    expect(files.map((f) => relative(root, f))).toContain(join('src', 'main.ts'));
    // main.ts is known to import the adapters, so the scan must find that.
    const main = specifiersOf(readFileSync(join(srcDir, 'main.ts'), 'utf8'));
    expect(main.some((s) => resolve(srcDir, s).startsWith(adaptersDir + sep))).toBe(true);
  });
});

describe('architecture', () => {
  const files = sourceFiles(srcDir);

  it('no file under src/ imports a chat platform library or readline', () => {
    const offences: string[] = [];
    for (const file of files) {
      for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
        for (const [pattern, what] of FORBIDDEN) {
          if (pattern.test(specifier)) offences.push(`${relative(root, file)} imports ${specifier} (${what})`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  it('no file under src/ imports from adapters/, except src/main.ts', () => {
    const offences: string[] = [];
    for (const file of files) {
      if (file === join(srcDir, 'main.ts')) continue;
      for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = resolve(dirname(file), specifier);
        if (target === adaptersDir || target.startsWith(adaptersDir + sep)) offences.push(`${relative(root, file)} imports ${specifier}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('outside src/executors/, the executor layer is imported only through src/executors/index.ts', () => {
    const executorsDir = join(srcDir, 'executors');
    const index = join(executorsDir, 'index.js');
    const offences: string[] = [];
    let throughIndex = 0;
    for (const file of [...files, ...sourceFiles(adaptersDir)]) {
      if (file.startsWith(executorsDir + sep)) continue;
      for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = resolve(dirname(file), specifier);
        if (target !== executorsDir && !target.startsWith(executorsDir + sep)) continue;
        if (target === index) throughIndex++;
        else offences.push(`${relative(root, file)} imports ${specifier}`);
      }
    }
    // The scan must see the imports that do go through index.ts (app.ts, offload, opencode-host, commands…).
    expect(throughIndex).toBeGreaterThan(5);
    expect(offences).toEqual([]);
  });

  it('the layers below commands (sessions, opencode, monitor, executors…) never import from src/commands/', () => {
    const commandsDir = join(srcDir, 'commands');
    // What commands are built on; app.ts, main.ts and core/switchboard.ts wire commands in, so they may.
    const below = ['sessions', 'opencode', 'monitor', 'executors', 'offload', 'opencode-host', 'notify', 'config', 'budgets'].map((dir) => join(srcDir, dir) + sep);
    const offences: string[] = [];
    let scanned = 0;
    for (const file of files) {
      if (!below.some((dir) => file.startsWith(dir))) continue;
      scanned++;
      for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = resolve(dirname(file), specifier);
        if (target === commandsDir || target.startsWith(commandsDir + sep)) offences.push(`${relative(root, file)} imports ${specifier}`);
      }
    }
    expect(scanned).toBeGreaterThan(50);
    expect(offences).toEqual([]);
  });
});
