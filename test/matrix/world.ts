import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { claudeEnv, localClaudeExecutorYaml } from '../helpers/claude-env.js';
import { startGateProxy, type GateProxy } from '../helpers/gate-proxy.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { killTmuxServer } from '../helpers/tmux.js';
import { warmUp } from '../slack/warm-up.js';

/**
 * Everything the matrix drives, started once per adapter file: the real `opencode serve` on the scripted fake LLM
 * (bash asks permission), the same server again behind a gate that can make it unreachable, the scripted Messages
 * API for the real `claude` CLI, a local executor (tmux) and an ssh executor on a real loopback sshd (offload's
 * rsync goes there). The monitor ticks every 2 s and calls a run stalled after 4 s without activity, so the stall
 * and unreachable notices arrive within a cell.
 */
export interface World {
  llm: FakeLlm;
  api: FakeAnthropic;
  server: OpencodeServer;
  gate: GateProxy;
  sshd: Sshd;
  root: string;
  /** A directory for `start`/`run` tasks (its path has a space). */
  workspace: string;
  /** A small project to offload (a file in it, and a .env that must stay home). */
  project: string;
  /** `servers:` entries: `lab` (the server) and `gate` (the same server behind the gate). */
  servers: Record<string, string>;
  /** switchboard.yaml lines after `servers:`: monitor timings, the executors. */
  yaml: string[];
  /** Settles when the server has answered its first prompt. */
  warm: Promise<void>;
  stop(): Promise<void>;
}

export async function startWorld(label: string): Promise<World> {
  const llm = await startFakeLlm();
  const [api, sshd, server] = await Promise.all([startFakeAnthropic(), startSshd(), startOpencodeServer({ llmBaseUrl: llm.baseUrl, permission: { bash: 'ask' } })]);
  const gate = await startGateProxy(server.url);
  // The first turn of a fresh server loads its provider and is slow: paid here, not inside a cell (while the
  // caller starts its bot).
  const warm = warmUp(server.url);
  // (Awaited by the caller; this only keeps a failure from counting as unhandled before then.)
  warm.catch(() => undefined);
  const root = mkdtempSync(join(tmpdir(), `sb-matrix-${label}-`));
  const workspace = join(root, 'work space');
  const project = join(root, 'project');
  mkdirSync(workspace);
  mkdirSync(join(root, 'remote'));
  mkdirSync(project);
  writeFileSync(join(project, 'main.py'), 'print("hello")\n');
  writeFileSync(join(project, '.env'), 'TOKEN=stays-home\n');
  const socket = `sb-matrix-${label}-${process.pid}`;
  const remoteEnv = claudeEnv({ baseUrl: api.baseUrl, configDir: join(root, 'remote-claude') });
  const yaml = [
    'monitor:',
    '  interval: 2s',
    '  stallAfter: 4s',
    '  unreachableAfter: 2',
    // Schedules may fire every few seconds here, so the `schedule` cell sees two fires quickly.
    'schedules:',
    '  minInterval: 2s',
    // (`defaults:` first: a kill waits 1 s for a task to end, a retry starts at once.)
    ...localClaudeExecutorYaml({ baseUrl: api.baseUrl, root, socket }).flatMap((line) => (line === 'defaults:' ? [line, '  killGraceSec: 1', '  retryBackoffSec: 0'] : [line])),
    '  - name: crib',
    '    type: ssh',
    `    host: ${sshd.host}`,
    `    port: ${sshd.port}`,
    `    user: ${sshd.user}`,
    `    identityFile: ${sshd.userKeyPath}`,
    `    hostKey: ${sshd.hostKeyFingerprint}`,
    `    tmuxSocket: ${socket}-ssh`,
    `    tasksDir: ${join(root, 'remote-tasks')}`,
    `    workspace: ${join(root, 'remote')}`,
    '    env:',
    ...Object.entries(remoteEnv).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
  ];
  return {
    llm,
    api,
    server,
    gate,
    sshd,
    root,
    workspace,
    project,
    servers: { lab: server.url, gate: gate.url },
    yaml,
    warm,
    async stop() {
      killTmuxServer(socket);
      killTmuxServer(`${socket}-ssh`);
      await gate.close();
      await server.stop();
      removeServerRoot(server);
      await Promise.all([llm.close(), api.close(), sshd.stop()]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Creates an OpenCode session on the server directly (as someone at its own TUI would), for `attach`. */
export async function outsideSession(serverUrl: string, title: string): Promise<string> {
  const created = await fetch(`${serverUrl}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title }),
  });
  if (!created.ok) throw new Error(`POST /session answered ${created.status}`);
  return ((await created.json()) as { id: string }).id;
}
