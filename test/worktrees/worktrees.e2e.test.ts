import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, waitForPromptRun, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { startPodman, type Podman } from '../helpers/podman.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { killTmuxServer, removeDir, tempDir } from '../executors/harness.js';

const OPENCODE_BIN = new URL('../../node_modules/.bin/opencode', import.meta.url).pathname;

/**
 * Worktrees through the real bot process and its console: one repository, shell tasks in worktrees over a real
 * sshd (two at once, each committing on its own branch), locally, and in a real podman container that mounts
 * the repository at another path; a managed OpenCode server (the real `opencode`, a scripted LLM) whose session
 * works in a worktree; cleanup that refuses a dirty worktree until forced and keeps the branch; and each refusal
 * before anything starts. Verified with git in the repository afterwards.
 */
describe('worktrees', () => {
  let sshd: Sshd;
  let llm: FakeLlm;
  let podman: Podman;
  let root: string;
  let repo: string;
  let plain: string;
  let bot: ConsoleBot;
  const socket = `sb-wt-${process.pid}`;

  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  /** The final output of one of these shell tasks, whichever comes first. */
  const finals: string[] = [];
  async function finalOf(name: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = finals.find((f) => f.startsWith(`📋 **${name}**`));
      if (found) return found;
      const seen = await bot.waitFor(/📋 \*\*[a-z0-9-]+\*\* (finished|failed)[^\n]*/, Math.max(1, deadline - Date.now()));
      finals.push(...(seen.match(/📋 \*\*[a-z0-9-]+\*\* (finished|failed)[^\n]*/g) ?? []));
    }
  }

  beforeAll(async () => {
    [sshd, llm] = await Promise.all([startSshd(), startFakeLlm()]);
    root = tempDir('sb-wt-');
    repo = join(root, 'repo');
    plain = join(root, 'plain');
    for (const dir of [repo, plain, join(root, 'tasks'), join(root, 'xdg', 'config', 'opencode')]) mkdirSync(dir, { recursive: true });
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    git('config', 'user.name', 'Switchboard Test');
    git('config', 'user.email', 'test@switchboard.invalid');
    writeFileSync(join(repo, 'README.md'), 'hello\n');
    git('add', 'README.md');
    git('commit', '-qm', 'first');
    podman = startPodman(root);
    const { image } = podman.buildImage();
    writeFileSync(
      join(root, 'xdg', 'config', 'opencode', 'opencode.json'),
      JSON.stringify({
        provider: { fake: { npm: '@ai-sdk/openai-compatible', name: 'Fake', options: { baseURL: llm.baseUrl, apiKey: 'x' }, models: { 'fake-model': { name: 'Fake Model' } } } },
        model: 'fake/fake-model',
        small_model: 'fake/fake-model',
        autoupdate: false,
        share: 'disabled',
      }),
    );
    const opencodeEnv: Record<string, string> = {
      XDG_DATA_HOME: join(root, 'xdg', 'data'),
      XDG_CONFIG_HOME: join(root, 'xdg', 'config'),
      XDG_STATE_HOME: join(root, 'xdg', 'state'),
      XDG_CACHE_HOME: join(root, 'xdg', 'cache'),
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_MODELS_FETCH: '1',
    };
    writeFileSync(
      join(root, 'switchboard.yaml'),
      [
        'defaults:',
        '  killGraceSec: 1',
        'executors:',
        '  - name: crib',
        '    type: ssh',
        `    host: ${sshd.host}`,
        `    port: ${sshd.port}`,
        `    user: ${sshd.user}`,
        `    identityFile: ${sshd.userKeyPath}`,
        `    hostKey: "${sshd.hostKeyFingerprint}"`,
        `    tmuxSocket: ${socket}-ssh`,
        `    tasksDir: ${join(root, 'tasks')}`,
        `    workspace: ${root}`,
        '    maxConcurrent: 4',
        `    opencodePath: ${OPENCODE_BIN}`,
        '    env:',
        ...Object.entries(opencodeEnv).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
        '  - name: local',
        '    type: local',
        `    tmuxSocket: ${socket}`,
        `    tasksDir: ${join(root, 'tasks')}`,
        '  - name: box',
        '    type: container',
        '    runtime: podman',
        `    runtimePath: ${podman.runtimePath}`,
        `    image: ${image}`,
        // The repository is at another path inside the container than on this machine.
        '    workspace: /work/repo',
        `    tasksDir: ${join(root, 'tasks')}`,
        '    volumes:',
        ...[...podman.baseVolumes, `${repo}:/work/repo`].map((v) => `      - ${JSON.stringify(v)}`),
      ].join('\n'),
    );
    bot = await startConsoleBot({ cwd: root, env: { LOG_LEVEL: 'warn' } });
  }, 120_000);

  afterAll(async () => {
    await bot?.end().catch(() => undefined);
    killTmuxServer(socket);
    killTmuxServer(`${socket}-ssh`);
    podman?.cleanup();
    await Promise.all([sshd?.stop(), llm?.close()]);
    if (root) removeDir(root);
  });

  it('two tasks on two worktrees of one repository over ssh run at once, each committing on its own branch', async () => {
    // Each waits for the other to have started: they only finish if they ran at the same time.
    const task = (me: string, other: string) =>
      `touch ${root}/${me}-up; for i in $(seq 150); do [ -e ${root}/${other}-up ] && break; sleep 0.1; done; [ -e ${root}/${other}-up ] || exit 9; ` +
      `echo ${me} > ${me}.txt && git add ${me}.txt && git commit -qm "from ${me}" && git rev-parse --abbrev-ref HEAD`;
    const a = await bot.exec(`run crib --name wa --workspace repo --worktree=feat/a -- ${task('wa', 'wb')}`, /task \*\*wa\*\*.*|❌.*/);
    expect(a).toContain(`⚙️ task **wa** started on crib in ${repo}/.git/sb-worktrees/wa · 🌿 branch \`feat/a\` (new)`);
    const b = await bot.exec(`run crib --name wb --workspace ${repo} --worktree ${task('wb', 'wa')}`, /task \*\*wb\*\*.*|❌.*/);
    expect(b).toContain(`⚙️ task **wb** started on crib in ${repo}/.git/sb-worktrees/wb · 🌿 branch \`sb/wb\` (new)`);
    expect(await finalOf('wa')).toMatch(/📋 \*\*wa\*\* finished/);
    expect(await finalOf('wb')).toMatch(/📋 \*\*wb\*\* finished/);
    expect(git('log', '-1', '--format=%s', 'feat/a')).toBe('from wa');
    expect(git('log', '-1', '--format=%s', 'sb/wb')).toBe('from wb');
    expect(git('log', '-1', '--format=%s', 'main')).toBe('first');
    expect(git('status', '--porcelain')).toBe('');
    // Each run's card names its branch.
    expect(bot.stdout()).toMatch(/^⚙️ \*\*wa\*\* · .*\n(?:.*\n)*?🌿 feat\/a$/m);
    expect(bot.stdout()).toMatch(/^⚙️ \*\*wb\*\* · .*\n(?:.*\n)*?🌿 sb\/wb$/m);
    const listed = await bot.exec('tasks', /wb .*/);
    expect(listed).toMatch(/wa +· shell on crib · succeeded .* · 🌿 feat\/a/);
    expect(listed).toMatch(/wb +· shell on crib · succeeded .* · 🌿 sb\/wb/);
  });

  it('cleanup refuses a worktree with uncommitted changes, saying which; --force removes it and the branch stays', async () => {
    writeFileSync(join(repo, '.git', 'sb-worktrees', 'wa', 'notes.txt'), 'not committed\n');
    const worktrees = await bot.exec('tasks --worktrees', /wb .*/);
    expect(worktrees).toContain(`✏️ wa · 🌿 feat/a · dirty (1 change) · task on crib · ${repo}/.git/sb-worktrees/wa`);
    expect(worktrees).toContain(`✅ wb · 🌿 sb/wb · clean · task on crib · ${repo}/.git/sb-worktrees/wb`);
    const refused = await bot.exec('kill wa --cleanup', /it stays\n.*/);
    expect(refused).toContain('has 1 uncommitted change: `?? notes.txt`; it stays');
    expect(refused).toContain('kill wa --cleanup --force');
    expect(existsSync(join(repo, '.git', 'sb-worktrees', 'wa', 'notes.txt'))).toBe(true);
    const forced = await bot.exec('kill wa --cleanup --force', /🌿 its worktree.*/);
    expect(forced).toContain(`🌿 its worktree ${repo}/.git/sb-worktrees/wa on crib is removed (forced); branch \`feat/a\` stays`);
    expect(existsSync(join(repo, '.git', 'sb-worktrees', 'wa'))).toBe(false);
    expect(git('branch', '--list', 'feat/a')).toContain('feat/a');
    // A clean one goes without --force.
    expect(await bot.exec('kill wb --cleanup', /🌿 its worktree.*/)).toContain('is removed; branch `sb/wb` stays');
    expect(git('worktree', 'list')).not.toContain('sb-worktrees');
  });

  it('refuses before anything starts: not a repository, staged changes, a branch checked out elsewhere, a bad branch name', async () => {
    expect(await bot.exec(`run crib --name bad1 --workspace ${plain} --worktree -- true`, /❌.*/)).toContain(`${plain} on crib is not a git repository`);
    writeFileSync(join(repo, 'staged.txt'), 'x\n');
    git('add', 'staged.txt');
    expect(await bot.exec(`run crib --name bad2 --workspace ${repo} --worktree -- true`, /❌.*/)).toContain('has staged changes that are not committed (`staged.txt`); nothing was started');
    git('rm', '-q', '--cached', 'staged.txt');
    expect(await bot.exec(`run crib --name bad3 --workspace ${repo} --worktree=main -- true`, /❌.*/)).toContain(`branch main is already checked out on crib in ${repo}; nothing was started`);
    expect(await bot.exec(`run crib --name bad4 --workspace ${repo} --worktree=bad..name -- true`, /❌.*/)).toContain('`bad..name` is not a branch name git accepts: it holds `..`');
    // A name git accepts that a shell would run: it travels as an argument, so it is only a name.
    const hostile = await bot.exec(`run crib --name odd --workspace ${repo} --worktree=$(touch${'${IFS}'}${root}/pwned) -- true`, /task \*\*odd\*\*.*|❌.*/);
    expect(hostile).toContain(`🌿 branch \`$(touch\${IFS}${root}/pwned)\` (new)`);
    expect(await finalOf('odd')).toMatch(/finished/);
    expect(git('branch', '--list', '$(touch*')).toContain(`$(touch\${IFS}${root}/pwned)`);
    expect(existsSync(join(root, 'pwned'))).toBe(false);
    expect(await bot.exec('kill odd --cleanup', /🌿 its worktree.*/)).toContain('is removed');
    expect(await bot.exec(`start crib --worktree=x --label l hi`, /❌.*/)).toMatch(/--worktree needs an executor named|--label/);
    // Nothing was left behind: no task, no worktree, no branch.
    expect(await bot.exec('tasks', /.*\n/)).not.toMatch(/bad[1-4]/);
    expect(git('worktree', 'list')).not.toContain('sb-worktrees');
    expect(git('branch', '--list', 'sb/bad*')).toBe('');
  });

  it('a local task and a container task (the repository mounted at another path) commit on their branches', async () => {
    const local = await bot.exec(`run local --name loc --workspace ${repo} --worktree=feat/local -- git commit -q --allow-empty -m "from loc" && pwd`, /task \*\*loc\*\*.*|❌.*/);
    expect(local).toContain(`in ${repo}/.git/sb-worktrees/loc · 🌿 branch \`feat/local\` (new)`);
    // Its final before the next command: a wait for that command's answer must not read past it.
    expect(await finalOf('loc')).toMatch(/finished/);
    const boxed = await bot.exec('run box --name boxy --worktree=feat/box -- git commit -q --allow-empty -m "from boxy" && pwd', /task \*\*boxy\*\*.*|❌.*/, 60_000);
    expect(boxed).toContain('in /work/repo/.git/sb-worktrees/boxy · 🌿 branch `feat/box` (new)');
    expect(await finalOf('boxy', 60_000)).toMatch(/finished/);
    expect(git('log', '-1', '--format=%s', 'feat/local')).toBe('from loc');
    expect(git('log', '-1', '--format=%s', 'feat/box')).toBe('from boxy');
    const worktrees = await bot.exec('tasks --worktrees', /boxy .*/);
    expect(worktrees).toContain('✅ boxy · 🌿 feat/box · clean · task on box · /work/repo/.git/sb-worktrees/boxy');
  });

  it('a managed OpenCode session works in its own worktree', async () => {
    const created = await bot.exec(`new kumo @crib --agent build --dir ${repo} --worktree=feat/oc`, /Send it work|❌.*/, 120_000);
    expect(created).toContain('🆕 **kumo** → OpenCode session');
    expect(created).toContain(`dir ${repo}/.git/sb-worktrees/kumo · 🌿 branch \`feat/oc\` (new)`);
    expect(git('worktree', 'list')).toContain(`${repo}/.git/sb-worktrees/kumo`);
    await bot.exec('send kumo WORKTREE check', /^WORKTREE check$/m);
    await waitForPromptRun(llm, 'WORKTREE check', 60_000);
    // The agent's own request (not the title's): its system prompt names the directory it works in.
    const request = llm.requests.find((r) => r.tools !== undefined && r.lastUserText.includes('WORKTREE check'))!;
    expect(JSON.stringify(request.messages)).toContain(`${repo}/.git/sb-worktrees/kumo`);
    expect(await bot.exec('tasks --worktrees', /kumo .*/)).toContain('kumo · 🌿 feat/oc · clean · session on crib');
    expect(await bot.exec('kill kumo --cleanup', /🌿 its worktree.*|❌.*/)).toContain('is removed; branch `feat/oc` stays (the OpenCode session stays)');
  }, 150_000);
});
