import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '../../src/errors.js';
import { resolveWorkspace } from '../../src/executors/workspace.js';

const ssh = (workspace?: string) => ({ name: 'box', type: 'ssh' as const, ...(workspace !== undefined ? { workspace } : {}) });

describe('resolveWorkspace: a relative --workspace is under the executor’s workspace, else under its home', () => {
  it('no executor workspace: under ~ (the host expands it), never left relative', () => {
    expect(resolveWorkspace(ssh(), 'app')).toBe('~/app');
    expect(resolveWorkspace(ssh(), '../../etc')).toBe('~/../../etc');
    expect(resolveWorkspace({ name: 'local', type: 'local' }, './x y')).toBe('~/./x y');
  });

  it('an executor workspace is the base; a relative one is itself under ~', () => {
    expect(resolveWorkspace(ssh('/srv/work/'), 'app')).toBe('/srv/work/app');
    expect(resolveWorkspace(ssh('~/code'), 'app')).toBe('~/code/app');
    expect(resolveWorkspace(ssh('code'), 'app')).toBe('~/code/app');
    expect(resolveWorkspace(ssh('/'), 'etc')).toBe('/etc');
  });

  it('absolute and ~ paths are kept; none given is the executor’s (or undefined: the host’s home)', () => {
    expect(resolveWorkspace(ssh('/srv'), '/etc')).toBe('/etc');
    expect(resolveWorkspace(ssh('/srv'), '~')).toBe('~');
    expect(resolveWorkspace(ssh('/srv'), '~/app')).toBe('~/app');
    expect(resolveWorkspace(ssh('/srv'), undefined)).toBe('/srv');
    expect(resolveWorkspace(ssh('code'), undefined)).toBe('~/code');
    expect(resolveWorkspace(ssh(), undefined)).toBeUndefined();
    expect(resolveWorkspace(ssh(), '')).toBeUndefined();
  });

  it('a container without a workspace has no home to put a relative path under: a usage error', () => {
    const container = { name: 'pod', type: 'container' as const };
    expect(() => resolveWorkspace(container, 'app')).toThrowError(SwitchboardError);
    expect(() => resolveWorkspace(container, 'app')).toThrowError(/relative, and container executor 'pod' has no workspace:/);
    expect(resolveWorkspace({ ...container, workspace: '/work' }, 'app')).toBe('/work/app');
    expect(resolveWorkspace(container, '/abs')).toBe('/abs');
  });
});
