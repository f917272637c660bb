import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';

const OPENCODE_BIN = resolve(import.meta.dirname, '../../node_modules/.bin/opencode');

export interface OpencodeServerOptions {
  llmBaseUrl: string;
  password?: string;
  username?: string;
  /** opencode.json `permission` block, e.g. `{ bash: 'ask' }`. */
  permission?: Record<string, string>;
  /** Reuse the state of an earlier server (restart tests). */
  root?: string;
  port?: number;
  /** The fake model takes images (`modalities.input` text and image): without it OpenCode tells the model it cannot read one. */
  imageInput?: boolean;
}

export interface OpencodeServer {
  url: string;
  port: number;
  /** The project directory the server runs in (its default instance). */
  directory: string;
  /** Temp root holding XDG dirs and the project; survives `stop()` so a restart keeps the sessions. */
  root: string;
  stop(): Promise<void>;
  /** Output so far, for diagnosing a failed test. */
  log(): string;
}

/**
 * The opencode.json of a project (or an XDG config) whose only provider is the fake LLM, for an OpenCode that
 * Switchboard itself starts on an executor.
 */
export function fakeProviderConfig(llmBaseUrl: string): string {
  return JSON.stringify({
    $schema: 'https://opencode.ai/config.json',
    provider: { fake: { npm: '@ai-sdk/openai-compatible', name: 'Fake', options: { baseURL: llmBaseUrl, apiKey: 'x' }, models: { 'fake-model': { name: 'Fake Model' } } } },
    model: 'fake/fake-model',
    small_model: 'fake/fake-model',
    autoupdate: false,
    share: 'disabled',
  });
}

/** Keeps an OpenCode in its own XDG dirs (`xdg(name)` gives each) and off the network for updates and models. */
export function opencodeIsolationEnv(xdg: (name: string) => string): Record<string, string> {
  return {
    XDG_DATA_HOME: xdg('data'),
    XDG_CONFIG_HOME: xdg('config'),
    XDG_STATE_HOME: xdg('state'),
    XDG_CACHE_HOME: xdg('cache'),
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
  };
}

/**
 * Starts the real `opencode serve` on 127.0.0.1 with isolated XDG dirs and a project whose only provider is
 * the fake LLM. Resolves once the server prints its `listening on` line.
 */
export async function startOpencodeServer(options: OpencodeServerOptions): Promise<OpencodeServer> {
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'sb-opencode-'));
  const directory = join(root, 'project');
  const xdg = (name: string) => {
    const dir = join(root, 'xdg', name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  mkdirSync(directory, { recursive: true });
  writeFileSync(
    join(directory, 'opencode.json'),
    JSON.stringify({
      $schema: 'https://opencode.ai/config.json',
      provider: {
        fake: {
          npm: '@ai-sdk/openai-compatible',
          name: 'Fake',
          options: { baseURL: options.llmBaseUrl, apiKey: 'x' },
          // Prices (USD per million tokens) and a context limit, so runs report a cost and a context share.
          models: {
            'fake-model': {
              name: 'Fake Model',
              cost: { input: 3_000, output: 15_000 },
              limit: { context: 1_000, output: 500 },
              ...(options.imageInput ? { attachment: true, modalities: { input: ['text', 'image'], output: ['text'] } } : {}),
            },
          },
        },
      },
      model: 'fake/fake-model',
      small_model: 'fake/fake-model',
      autoupdate: false,
      share: 'disabled',
      ...(options.permission ? { permission: options.permission } : {}),
    }),
  );
  const port = options.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: xdg('home'),
    ...opencodeIsolationEnv(xdg),
  };
  if (options.password) env.OPENCODE_SERVER_PASSWORD = options.password;
  if (options.username) env.OPENCODE_SERVER_USERNAME = options.username;

  const child: ChildProcess = spawn(
    OPENCODE_BIN,
    ['serve', '--hostname', '127.0.0.1', '--port', String(port), '--print-logs', '--log-level', 'WARN'],
    { cwd: directory, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`opencode did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`opencode exited with ${code} before listening:\n${output}`));
    });
  });
  // Keep collecting output for diagnosis, and never let a full pipe block the server.
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));

  return {
    url,
    port,
    directory,
    root,
    log: () => output,
    stop: () =>
      new Promise<void>((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolveStop();
        });
        child.kill('SIGTERM');
      }),
  };
}

export function removeServerRoot(server: OpencodeServer): void {
  rmSync(server.root, { recursive: true, force: true });
}
