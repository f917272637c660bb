import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { killTmuxServer } from '../helpers/tmux.js';

/**
 * The fleet page in a real browser (Debian chromium through playwright-core) against the real bot process, a
 * real `opencode` server on the scripted LLM and the local executor (real tmux): the link from `dashboard`,
 * rows and progress bars, a todo item turning ✅ live, a name's timeline, a viewer's narrower page, and both
 * a desktop and a phone width.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const OUT = resolve(ROOT, 'test-results/web');
const socket = `sb-web-${process.pid}`;
let root: string;
let bot: ConsoleBot;
let browser: Browser;
let base: string;

const world = useOpencodeWorld(async ({ server }) => {
  root = mkdtempSync(join(tmpdir(), 'sb-web-'));
  writeFileSync(
    join(root, 'switchboard.yaml'),
    `servers:
  - name: lab
    url: ${server.url}
cards:
  minEditInterval: 2s
access:
  consoleIsAdmin: false
  admins: ['console:tester']
  names:
    kumo:
      viewers: ['console:vic']
executors:
  - name: local
    type: local
    tmuxSocket: ${socket}
    tasksDir: ${join(root, 'tasks')}
`,
  );
  [bot, browser] = await Promise.all([startConsoleBot({ cwd: root, env: { WEB_PORT: '0' } }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await bot?.end().catch(() => undefined);
  killTmuxServer(socket);
  if (root) rmSync(root, { recursive: true, force: true });
});

async function dashboardLink(): Promise<string> {
  const answer = await bot.exec('dashboard', /🔗 .*\n/);
  const link = /(http:\/\/127\.0\.0\.1:\d+\/\?t=[\w.-]+)/.exec(answer)![1]!;
  base = new URL(link).origin;
  return link;
}

/** `switchboard dashboard kumo` from the one-shot CLI as another user, on the same database: their own link. */
function cliLink(user: string, line: string): Promise<string> {
  return new Promise((resolveLink, reject) => {
    const child = spawn(resolve(ROOT, 'node_modules/.bin/tsx'), [resolve(ROOT, 'src/cli.ts'), ...line.split(' ')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: root, USER: user, WEB_PORT: '0', LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('exit', () => {
      const found = /\?t=([\w.-]+(?:#[a-z0-9-]+)?)/.exec(out)?.[1];
      if (found) resolveLink(`${base}/?t=${found}`);
      else reject(new Error(`no link from the CLI:\n${out}`));
    });
  });
}

async function noHorizontalOverflow(page: Page): Promise<void> {
  const { scroll, inner } = await page.evaluate<{ scroll: number; inner: number }>('({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })');
  expect(scroll).toBeLessThanOrEqual(inner);
}

describe('fleet page in a real browser', () => {
  let page: Page;

  it('follows the link from `dashboard` to a clean URL and shows every name with its progress', async () => {
    await bot.exec(`new kumo lab --agent build`, /Send it work/);
    await bot.exec(`run local --name ticker -- sh -c 'echo first; sleep 1; echo second-line'`, /ticker/);
    await bot.exec('send kumo TODOTWICE:web fix parse()', /^TODOTWICE:web fix parse\(\)$/m);
    await world.llm.waitForRequest('TODOTWICE:web');
    const link = await dashboardLink();

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(link);
    expect(new URL(page.url()).search).toBe('');
    await page.locator('tr[data-name="kumo"]').waitFor();
    await page.locator('tr[data-name="ticker"]').waitFor();
    // The todo list of the run is out (two of four done): the row has its bar, live.
    const bar = page.locator('tr[data-name="kumo"] [role="progressbar"]');
    await expect.poll(() => bar.getAttribute('aria-valuenow'), { timeout: 15_000 }).toBe('2');
    expect(await bar.getAttribute('aria-valuemax')).toBe('4');
    expect(await page.locator('tr[data-name="kumo"] .active').textContent()).toBe('Fix parse() and run the tests');
    expect(await page.locator('#servers .tile[data-name="lab"]').textContent()).toMatch(/healthy/);
    expect(await page.locator('#executors .tile[data-name="local"]').textContent()).toMatch(/reachable/);
    expect(await page.locator('#chart-runs svg').count()).toBe(1);
    expect(problems).toEqual([]);
    await noHorizontalOverflow(page);
  });

  it('turns a todo item ✅ without a reload, and opens the name\'s timeline', async () => {
    await page.evaluate('window.stayed = true');
    await page.locator('tr[data-name="kumo"] button.name').click();
    const item = page.locator('#detail-todos li', { hasText: 'Fix parse() and run the tests' });
    await expect.poll(() => item.textContent()).toBe('🔄 Fix parse() and run the tests');
    world.llm.release('web');
    await expect.poll(() => item.textContent(), { timeout: 15_000 }).toBe('✅ Fix parse() and run the tests');
    expect(await page.evaluate('window.stayed')).toBe(true);
    // The run ends: the timeline has it, with its outcome, and the prompt shows verbatim.
    await page.locator('#detail-runs li[data-phase="finished"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('#detail-timeline svg rect').count()).toBeGreaterThan(0);
    expect(await page.locator('#detail-prompts pre').first().textContent()).toBe('TODOTWICE:web fix parse()');
    await page.locator('#detail-finals pre').first().waitFor();
    // A task's detail has its log tail.
    await page.locator('tr[data-name="ticker"] button.name').click();
    await expect.poll(() => page.locator('#detail-log').textContent(), { timeout: 15_000 }).toContain('second-line');
    await page.locator('tr[data-name="kumo"] button.name').click();
    await page.locator('#detail-runs li[data-phase="finished"]').waitFor();
    // The run's end moved today's totals on the overview, without a reload either.
    await expect.poll(() => page.locator('#servers .tile[data-name="lab"]').textContent(), { timeout: 5_000 }).toMatch(/today 45 tokens/);
    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'fleet-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`fleet page screenshot: ${shot}`);
  });

  it('works on a 390 px phone without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('tr[data-name="kumo"]').waitFor();
    await noHorizontalOverflow(page);
    await page.screenshot({ path: join(OUT, 'fleet-page-390.png'), fullPage: true });
  });

  it('shows a viewer only the names they may see', async () => {
    const link = await cliLink('vic', 'dashboard --link kumo');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    await viewer.goto(link);
    await viewer.locator('tr[data-name="kumo"]').waitFor();
    // Opened on the name it was asked about.
    await viewer.locator('#detail:not([hidden])').waitFor();
    expect(await viewer.locator('#names tbody tr').count()).toBe(1);
    expect(await viewer.locator('tr[data-name="ticker"]').count()).toBe(0);
    const refused = await viewer.evaluate(async () => (await fetch('/api/names/ticker')).status);
    expect(refused).toBe(403);
    await context.close();
  });
});
