import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupHost } from '../../src/opencode/address-guard.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { startConsoleBot } from '../helpers/console-bot.js';
import { startOpencodeProxy, startRecorder, type OpencodeProxy, type Recorder } from '../helpers/hostile-proxy.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';
import { errorCode, plain, startCore } from '../unit/helpers/core-app.js';
import { until } from '../unit/helpers/wait.js';

/**
 * A real OpenCode server turned hostile by a proxy in front of it (issue 21): its event stream redirects to
 * another loopback address standing in for a metadata endpoint, and its name resolves to the metadata address
 * once Switchboard has started using it. What a user sees, through the real bot process and the real core.
 */
let llm: FakeLlm;
let server: OpencodeServer;
let proxy: OpencodeProxy;
let recorder: Recorder;
const dirs: string[] = [];

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  proxy = await startOpencodeProxy(server.url);
  recorder = await startRecorder('127.0.0.2');
});

afterAll(async () => {
  await proxy?.close();
  await recorder?.close();
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('an event stream that redirects (the real bot process)', () => {
  it('is never followed: the target sees nothing, the bot warns once with the reason, and polling still posts the final', async () => {
    proxy.redirectEventsTo(`${recorder.url}/latest/meta-data/iam/security-credentials/`);
    const cwd = mkdtempSync(join(tmpdir(), 'sb-guard-'));
    dirs.push(cwd);
    // A short interval: with the stream refused, polling is what reports the work.
    writeFileSync(join(cwd, 'switchboard.yaml'), `servers:\n  - name: lab\n    url: ${proxy.url}\nmonitor:\n  interval: 2s\n`);
    const bot = await startConsoleBot({ cwd });
    try {
      await bot.exec('new kumo lab --agent build', /Send it work/);
      await bot.exec('send kumo say hello', /^say hello$/m);
      await until(() => /WARN event stream refused; reconnecting/.test(bot.stderr()), 'the warning', 20_000);
      const final = await bot.waitFor(/📋 \*\*kumo\*\* finished.*\n.*/, 30_000);
      expect(final).toContain('Done: say hello');

      const warnings = bot.stderr().split('\n').filter((line) => line.includes('WARN event stream'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('"reason":"lab redirects (302); it does not look like an OpenCode server"');
      expect(proxy.requests.filter((r) => r.startsWith('GET /global/event')).length).toBeGreaterThanOrEqual(1);
      expect(recorder.hits).toEqual([]);
    } finally {
      await bot.end();
      proxy.redirectEventsTo(undefined);
    }
  });
});

describe('a server name that rebinds to the metadata address (the real core, a resolver seam)', () => {
  it('works while it resolves to loopback; once it answers 169.254.169.254 every command is refused before connecting', async () => {
    let answer = ['127.0.0.1'];
    const lookupHost: LookupHost = async (host) => {
      if (host !== 'opencode.test') throw new Error(`unexpected lookup of ${host}`);
      return answer;
    };
    const core = startCore({ yaml: `servers:\n  - name: lab\n    url: http://opencode.test:${proxy.port}\n`, lookupHost });
    const operator = { id: 'console:tester', name: 'tester' };
    try {
      const created = await core.run(operator, 'new kumo lab --agent build');
      expect(errorCode(created), plain(created)).toBeUndefined();
      expect(plain(created)).toMatch(/\*\*kumo\*\* → OpenCode session `ses_\w+`/);
      const before = proxy.requests.length;

      answer = ['169.254.169.254'];
      for (const line of ['send kumo hello', 'status kumo', 'agents lab']) {
        const refused = await core.run(operator, line);
        expect(errorCode(refused), line).toBe('forbidden');
        expect(plain(refused), line).toBe(
          '❌ server lab: refusing the connection: opencode.test (169.254.169.254) is a link-local or cloud metadata address\n' +
            'an admin can allow it with `access.allowMetadataAddresses: true` in switchboard.yaml',
        );
      }
      expect(proxy.requests.length).toBe(before);
    } finally {
      await core.close();
    }
  });
});
