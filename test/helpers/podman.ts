import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/**
 * Real rootful podman for tests, offline. The engine reads a test containers.conf through CONTAINERS_CONF (set
 * by the test for its own calls only): runc, open-file limits within this machine's hard limit, and the host
 * network so containers reach the fake APIs on loopback. Images are built in about a second with `podman
 * import` from a tiny root filesystem whose /usr is the host's, mounted read-only by the executor's volumes:
 * bash, coreutils, node and the pinned claude CLI (a native binary) all come from there. Nothing is pulled.
 */
export interface Podman {
  /**
   * The executor's `runtimePath`: podman with CONTAINERS_CONF set (the bot passes its own environment on only
   * in part, as a user's wrapper script would).
   */
  runtimePath: string;
  /** Volumes every container of these tests needs: the host's /usr, read-only. */
  baseVolumes: string[];
  /** Builds an image; `user` is its USER (a name from its /etc/passwd, or uid[:gid]); `entrypoint` its ENTRYPOINT. */
  buildImage(options?: { user?: string; entrypoint?: string[] }): { image: string; ms: number };
  run(args: string[]): { code: number; stdout: string; stderr: string };
  /** Removes every container made from the images built here, then the images. */
  cleanup(): void;
}

/** An entrypoint script every image has: it exports SETUP_RAN=yes and execs its arguments. */
export const SETUP_SCRIPT = '/opt/setup.sh';

/** The unprivileged user every image has (uid 1000), for tests of a non-root image user. */
export const IMAGE_USER = { name: 'agent', uid: 1000, gid: 1000 };

export function startPodman(dir: string): Podman {
  const found = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error('podman is not installed: these tests drive a real container engine. Install it with `apt-get install -y podman runc catatonit` (see the README test line).');
  }
  const hardNofile = Number(execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  const nofile = Number.isFinite(hardNofile) ? Math.min(hardNofile, 10_000) : 10_000;
  const conf = join(dir, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]`,
      'netns = "host"',
      '[engine]',
      'runtime = "runc"',
      '',
    ].join('\n'),
  );
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', CONTAINERS_CONF: conf };
  const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const images: string[] = [];

  const runtimePath = join(dir, 'podman');
  writeFileSync(runtimePath, `#!/bin/sh\nCONTAINERS_CONF='${conf}' exec podman "$@"\n`, { mode: 0o755 });

  const run = (args: string[]) => {
    const result = spawnSync('podman', args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    return { code: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  };

  const rootfs = join(dir, 'rootfs');
  makeRootfs(rootfs);

  return {
    runtimePath,
    baseVolumes: ['/usr:/usr:ro'],
    buildImage(options = {}) {
      const image = `localhost/switchboard-test:${tag}-${images.length + 1}`;
      const changes = ['CMD ["bash"]'];
      if (options.user) changes.push(`USER ${options.user}`);
      if (options.entrypoint) changes.push(`ENTRYPOINT ${JSON.stringify(options.entrypoint)}`);
      const started = performance.now();
      const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 64 << 20 });
      if (tar.status !== 0) throw new Error(`tar of the test rootfs failed: ${String(tar.stderr)}`);
      const imported = spawnSync('podman', ['import', ...changes.flatMap((c) => ['--change', c]), '-', image], { env, input: tar.stdout, encoding: 'utf8' });
      if (imported.status !== 0) throw new Error(`podman import failed: ${imported.stderr}`);
      images.push(image);
      return { image, ms: performance.now() - started };
    },
    run,
    cleanup() {
      for (const image of images) {
        const ids = run(['ps', '-a', '-q', '--filter', `ancestor=${image}`]).stdout.split('\n').filter(Boolean);
        if (ids.length > 0) run(['rm', '-f', ...ids]);
        run(['rmi', '-f', image]);
      }
    },
  };
}

/** A root filesystem of symlinks into /usr (mounted at run time), a passwd with root and agent, a 1777 /tmp, and the setup script. */
function makeRootfs(root: string) {
  rmSync(root, { recursive: true, force: true });
  for (const d of ['usr', 'etc', 'tmp', 'var/tmp', 'proc', 'sys', 'dev', 'root', 'run', `home/${IMAGE_USER.name}`]) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'var/tmp'), 0o1777);
  for (const [link, target] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']] as const) symlinkSync(target, join(root, link));
  const { name, uid, gid } = IMAGE_USER;
  writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/bash\n${name}:x:${uid}:${gid}:${name}:/home/${name}:/bin/bash\n`);
  writeFileSync(join(root, 'etc/group'), `root:x:0:\n${name}:x:${gid}:\n`);
  mkdirSync(join(root, 'opt'));
  writeFileSync(join(root, SETUP_SCRIPT), '#!/bin/bash\nexport SETUP_RAN=yes\nexec "$@"\n', { mode: 0o755 });
  if (existsSync('/etc/ld.so.cache')) copyFileSync('/etc/ld.so.cache', join(root, 'etc/ld.so.cache'));
  execFileSync('chown', [`${uid}:${gid}`, join(root, 'home', name)]);
}
