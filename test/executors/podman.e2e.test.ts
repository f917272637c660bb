import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExecutorConfig } from '../../src/executors/config.js';
import type { TaskEvent } from '../../src/executors/fleet.js';
import { isSwitchboardError } from '../../src/errors.js';
import { RESUME_PREFIX, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { IMAGE_USER, SETUP_SCRIPT, startPodman, type Podman } from '../helpers/podman.js';
import { createHarness, removeDir, tempDir, type FleetHarness } from './harness.js';

const NODE_MODULES = new URL('../../node_modules', import.meta.url).pathname.replace(/\/$/, '');

// A real container engine: rootful podman with runc and catatonit (its --init), offline. The images are a tiny
// root filesystem whose /usr is the host's (mounted read-only), so bash, node and the pinned claude CLI inside
// are the host's own; the fake Messages API is reached over the host network.
describe('container executor on real podman', () => {
  let fake: FakeAnthropic;
  let podman: Podman;
  let root: string;
  let h: FleetHarness;

  const finished = (name: string, count = 1, timeoutMs = 90_000) =>
    h.tickUntil(`${name} to finish`, () => h.eventsFor(name).filter((e): e is Extract<TaskEvent, { kind: 'finished' }> => e.kind === 'finished')[count - 1], timeoutMs);
  const container = (taskId: string) => `sb-${taskId}`;
  const sessionSaved = (sessionId: string) => {
    const projects = join(root, 'claude', 'projects');
    return existsSync(projects) && readdirSync(projects).some((p) => existsSync(join(projects, p, `${sessionId}.jsonl`)));
  };
  const running = (taskId: string) => podman.run(['inspect', '--format', '{{.State.Running}}', container(taskId)]).stdout.trim() === 'true';

  beforeAll(async () => {
    root = tempDir('sb-podman-');
    podman = startPodman(root);
    fake = await startFakeAnthropic();
    const image = podman.buildImage().image;
    const userImage = podman.buildImage({ user: IMAGE_USER.name }).image;
    const entrypointImage = podman.buildImage({ entrypoint: ['/usr/bin/false'] }).image;

    const ws = join(root, 'ws');
    const agentWs = join(root, 'agent-ws');
    mkdirSync(ws);
    mkdirSync(agentWs);
    chownSync(agentWs, IMAGE_USER.uid, IMAGE_USER.gid);
    const env = claudeEnv({ baseUrl: fake.baseUrl, configDir: join(root, 'claude'), todoTools: true });
    // The non-root user's own Claude config, writable by it.
    const agentClaude = join(root, 'claude-agent');
    const agentEnv = claudeEnv({ baseUrl: fake.baseUrl, configDir: agentClaude });
    chownSync(agentClaude, IMAGE_USER.uid, IMAGE_USER.gid);
    chownSync(join(agentClaude, 'home'), IMAGE_USER.uid, IMAGE_USER.gid);
    const base = { labels: [], maxConcurrent: 4, runtime: 'podman' as const, runtimePath: podman.runtimePath, env: {}, tasksDir: join(root, 'tasks') };
    const usr = podman.baseVolumes;
    const claudeVolumes = [...usr, `${NODE_MODULES}:${NODE_MODULES}:ro`, `${root}/claude:${root}/claude`, `${ws}:${ws}`];
    const executors: ExecutorConfig[] = [
      { type: 'container', name: 'pod', ...base, image, workspace: ws, volumes: claudeVolumes, claudePath: CLAUDE_PATH, env },
      {
        type: 'container',
        name: 'pod-agent',
        ...base,
        image: userImage,
        workspace: agentWs,
        volumes: [...usr, `${NODE_MODULES}:${NODE_MODULES}:ro`, `${agentClaude}:${agentClaude}`, `${agentWs}:${agentWs}`],
        claudePath: CLAUDE_PATH,
        env: agentEnv,
      },
      { type: 'container', name: 'pod-entry', ...base, image: entrypointImage, workspace: ws, volumes: [...usr, `${ws}:${ws}`], network: 'host' },
      { type: 'container', name: 'pod-setup', ...base, image: entrypointImage, workspace: ws, volumes: [...usr, `${ws}:${ws}`], entrypoint: SETUP_SCRIPT },
      { type: 'container', name: 'pod-novol', ...base, image, volumes: [...usr, `${root}/not-there:/data`] },
      { type: 'container', name: 'pod-badnet', ...base, image, volumes: usr, network: 'no-such-network' },
      { type: 'container', name: 'pod-noclaude', ...base, image, volumes: claudeVolumes, claudePath: '/opt/nowhere/claude', env },
    ];
    h = createHarness({ dir: root, executors });
  });

  afterAll(async () => {
    await h?.close();
    podman?.cleanup();
    await fake?.close();
    removeDir(root);
  });

  test('a shell task with a non-zero exit: failed with its code and its output', async () => {
    await h.fleet.start({ name: 'p-shell', executor: 'pod', kind: 'shell', text: 'echo "in $PWD as $(id -u)"; exit 3', actor: 'a', channel: 'c' });
    const done = await finished('p-shell');
    expect(done.record).toMatchObject({ status: 'failed', exit_code: 3 });
    expect(await h.fleet.logs('p-shell')).toBe(`in ${join(root, 'ws')} as 0`);
  });

  test('kill reaches claude with TERM through the wrapper: its done file is written and the task is killed', async () => {
    const task = await h.fleet.start({ name: 'p-term', executor: 'pod', kind: 'claude', text: 'HOLD:term wait here', actor: 'a', channel: 'c' });
    await fake.waitForRequest('HOLD:term');
    const killed = await h.fleet.kill('p-term');
    expect(killed.status).toBe('killed');
    const dir = task.remoteDir!;
    expect(readFileSync(join(dir, 'done'), 'utf8').trim()).toBe('1');
    // Claude ended on the forwarded TERM, not on the engine's KILL after the grace period.
    expect(readFileSync(join(dir, 'exit_code'), 'utf8').trim()).not.toBe('137');
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toMatchObject({ status: 'exited', attempt: 1 });
    expect(h.fleet.completion('p-term')?.record).toMatchObject({ status: 'killed' });
    expect(podman.run(['ps', '-a', '-q', '--filter', `name=^${container(task.id)}$`]).stdout.trim()).toBe('');
  });

  test('claude killed with kill -9 inside the container is resumed with --resume in a new container, and finishes', async () => {
    const task = await h.fleet.start({ name: 'p-crash', executor: 'pod', kind: 'claude', text: 'HOLD:crash9 keep working', actor: 'a', channel: 'c' });
    await fake.waitForRequest('HOLD:crash9');
    await h.tickUntil('claude to save its session', () => sessionSaved(task.sessionId!));
    const pid = readFileSync(join(task.remoteDir!, 'pid'), 'utf8').split(' ')[0]!;
    const killed = podman.run(['exec', container(task.id), 'bash', '-c', 'kill -9 "$1"', 'kill', pid]);
    expect(killed).toMatchObject({ code: 0 });
    const done = await finished('p-crash');
    expect(h.eventsFor('p-crash').find((e) => e.kind === 'resumed')).toMatchObject({ attempt: 2, reason: expect.stringContaining('exit 137 (SIGKILL)') });
    expect(done.record).toMatchObject({ status: 'succeeded', attempts: 2, session_id: task.sessionId });
    const resumed = fake.requests.find((r) => r.lastUserText.includes(RESUME_PREFIX) && r.lastUserText.endsWith('HOLD:crash9 keep working'))!;
    expect(resumed.userTexts[0]).toBe('HOLD:crash9 keep working');
  });

  test('a follow-up send continues the conversation in a new container', async () => {
    const task = await h.fleet.start({ name: 'p-chat', executor: 'pod', kind: 'claude', text: 'Remember the word PAPAYA', actor: 'a', channel: 'c' });
    await finished('p-chat');
    expect((await h.fleet.send('p-chat', 'Which word was it?')).status).toBe('running');
    const second = await finished('p-chat', 2);
    expect(second.record).toMatchObject({ status: 'succeeded', session_id: task.sessionId, result: 'Done: Which word was it?' });
    expect(fake.requests.find((r) => r.lastUserText === 'Which word was it?')!.userTexts).toEqual(['Remember the word PAPAYA', 'Which word was it?']);
  });

  test('an image whose USER is not root runs shell and claude tasks as that user, with the task directory given to it', async () => {
    await h.fleet.start({ name: 'p-agent', executor: 'pod-agent', kind: 'shell', text: 'id -un; touch made-here && stat -c %u made-here', actor: 'a', channel: 'c' });
    const done = await finished('p-agent');
    expect(done.record).toMatchObject({ status: 'succeeded', exit_code: 0 });
    expect(await h.fleet.logs('p-agent')).toBe(`${IMAGE_USER.name}\n${IMAGE_USER.uid}`);

    await h.fleet.start({ name: 'p-agent-claude', executor: 'pod-agent', kind: 'claude', text: 'Work as agent', actor: 'a', channel: 'c' });
    expect((await finished('p-agent-claude')).record).toMatchObject({ status: 'succeeded', result: 'Done: Work as agent' });
  });

  test("an image's ENTRYPOINT never receives our arguments; a configured entrypoint runs first and execs them", async () => {
    await h.fleet.start({ name: 'p-entry', executor: 'pod-entry', kind: 'shell', text: 'echo replaced', actor: 'a', channel: 'c' });
    await h.fleet.start({ name: 'p-setup', executor: 'pod-setup', kind: 'shell', text: 'echo "setup ran: $SETUP_RAN"', actor: 'a', channel: 'c' });
    expect((await finished('p-entry')).record).toMatchObject({ status: 'succeeded' });
    expect(await h.fleet.logs('p-entry')).toBe('replaced');
    expect((await finished('p-setup')).record).toMatchObject({ status: 'succeeded' });
    expect(await h.fleet.logs('p-setup')).toBe('setup ran: yes');
  });

  test('a missing workspace: refused before launch when it is under a volume, a clear failure (never created) when it would be in the image', async () => {
    const error = await h.fleet.start({ name: 'p-nows', executor: 'pod', kind: 'shell', workspace: join(root, 'ws', 'nope'), text: 'true', actor: 'a', channel: 'c' }).catch((e: unknown) => e);
    expect(isSwitchboardError(error) && error.code).toBe('workspace_missing');
    expect((error as Error).message).toContain(`workspace ${join(root, 'ws', 'nope')} does not exist`);

    await h.fleet.start({ name: 'p-inimage', executor: 'pod', kind: 'shell', workspace: '/srv/nope', text: 'true', actor: 'a', channel: 'c' });
    const done = await finished('p-inimage');
    expect(done.record).toMatchObject({ status: 'failed', exit_code: 96 });
    expect(done.record.reason).toContain('the workspace does not exist or is not a directory');
  });

  test('a missing volume source is refused before launch, with the path', async () => {
    const error = await h.fleet.start({ name: 'p-novol', executor: 'pod-novol', kind: 'shell', text: 'true', actor: 'a', channel: 'c' }).catch((e: unknown) => e);
    expect(isSwitchboardError(error) && error.code).toBe('workspace_missing');
    expect((error as Error).message).toContain(`volume source ${root}/not-there does not exist on this machine`);
    expect(existsSync(join(root, 'not-there'))).toBe(false);
  });

  test('engine exit codes read as reasons: 125 (unknown network), 127 (no claude in the image), 137 (container killed)', async () => {
    const refused = await h.fleet.start({ name: 'p-badnet', executor: 'pod-badnet', kind: 'shell', text: 'true', actor: 'a', channel: 'c' }).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/podman refused to run it \(exit 125\): .*no-such-network/);

    await h.fleet.start({ name: 'p-noclaude', executor: 'pod-noclaude', kind: 'claude', text: 'hello', actor: 'a', channel: 'c' });
    const missing = await finished('p-noclaude');
    expect(missing.record).toMatchObject({ status: 'failed', exit_code: 127 });
    expect(missing.record.reason).toContain('exit 127: command not found');

    const task = await h.fleet.start({ name: 'p-oom', executor: 'pod', kind: 'shell', text: 'sleep 300', actor: 'a', channel: 'c' });
    await h.tickUntil('the container to run', () => running(task.id));
    expect(podman.run(['kill', '--signal', 'KILL', container(task.id)])).toMatchObject({ code: 0 });
    const killed = await finished('p-oom');
    expect(killed.record).toMatchObject({ status: 'failed' });
    expect(killed.record.reason).toContain('its container exited: killed with SIGKILL');
    expect(killed.record.reason).toContain('(exit 137)');
  });
});
