import { describe, expect, it } from 'vitest';
import { accessRulesFrom } from '../../src/config/access-rules.js';
import type { Config } from '../../src/config/load.js';
import { fileConfigSchema } from '../../src/config/schema.js';
import type { Actor } from '../../src/core/origin.js';
import { SwitchboardError } from '../../src/errors.js';
import { createAccess, type AccessRules } from '../../src/sessions/access.js';

function configWith(raw: unknown): Config {
  return { ...fileConfigSchema.parse(raw), file: '/etc/switchboard.yaml', fileExists: true, databasePath: ':memory:' };
}

function accessFor(raw: unknown = {}, env: Record<string, string | undefined> = {}) {
  return createAccess(accessRulesFrom(configWith(raw), env));
}

function forbidden(fn: () => unknown): SwitchboardError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    expect((error as SwitchboardError).code).toBe('forbidden');
    return error as SwitchboardError;
  }
  throw new Error('expected forbidden');
}

const slack = (id: string): Actor => ({ id: `slack:${id}` });
const discord = (id: string, roles: string[] = []): Actor => ({ id: `discord:${id}`, groups: roles.map((r) => `discord-role:${r}`) });
const console_ = (user = 'alice'): Actor => ({ id: `console:${user}` });

describe('roles', () => {
  it('the console is admin by default, and not when consoleIsAdmin is off', () => {
    expect(accessFor().roleOf(console_())).toBe('admin');
    expect(accessFor().isAdmin(console_('bob'))).toBe(true);
    expect(accessFor({ access: { consoleIsAdmin: false } }).roleOf(console_())).toBe('none');
    expect(accessFor({ access: { consoleIsAdmin: false, viewers: ['console:alice'] } }).roleOf(console_())).toBe('viewer');
  });

  it('chat users are nobody until configured', () => {
    const access = accessFor();
    expect(access.roleOf(slack('U1'))).toBe('none');
    expect(access.roleOf(discord('42'))).toBe('none');
    for (const level of ['read', 'work', 'admin'] as const) forbidden(() => access.require(slack('U1'), level, 'do it'));
  });

  it('the refusal names the exact key to add (and the platform variable for members)', () => {
    const access = accessFor();
    const read = forbidden(() => access.require(slack('U1'), 'read', 'list sessions'));
    expect(read.message).toBe('slack:U1 may not list sessions: it needs the viewer role');
    expect(read.hint).toBe('an admin can add `slack:U1` under `access.viewers` in switchboard.yaml');

    const work = forbidden(() => access.require(slack('U1'), 'work', 'send prompts'));
    expect(work.hint).toBe('an admin can add `slack:U1` under `access.members` in switchboard.yaml (or its id to SLACK_ALLOWED_USERS)');

    const discordWork = forbidden(() => access.require(discord('42'), 'work', 'send prompts'));
    expect(discordWork.hint).toBe(
      'an admin can add `discord:42` under `access.members` in switchboard.yaml (or its id to DISCORD_ALLOWED_USERS or DISCORD_ALLOWED_ROLES)',
    );

    const admin = forbidden(() => access.require(slack('U1'), 'admin', 'forget names'));
    expect(admin.message).toBe('slack:U1 may not forget names: it needs the admin role');
    expect(admin.hint).toBe('an admin can add `slack:U1` under `access.admins` in switchboard.yaml');
  });

  it('a refusal about one name or executor names the scoped key too', () => {
    const access = accessFor();
    expect(forbidden(() => access.require(slack('U1'), 'work', 'send to kumo', { name: 'kumo' })).hint).toBe(
      'an admin can add `slack:U1` under `access.members` (or `access.names.kumo.members`) in switchboard.yaml (or its id to SLACK_ALLOWED_USERS)',
    );
    expect(forbidden(() => access.require(slack('U1'), 'read', 'see crib', { executor: 'crib' })).hint).toBe(
      'an admin can add `slack:U1` under `access.viewers` (or `access.executors.crib.viewers`) in switchboard.yaml',
    );
  });

  it('the levels map to roles: read ≤ viewer, work ≤ member, admin ≤ admin', () => {
    const access = accessFor({ access: { viewers: ['slack:V'], members: ['slack:M'], admins: ['slack:A'] } });
    access.require(slack('V'), 'read', 'x');
    forbidden(() => access.require(slack('V'), 'work', 'x'));
    access.require(slack('M'), 'work', 'x');
    forbidden(() => access.require(slack('M'), 'admin', 'x'));
    access.require(slack('A'), 'admin', 'x');
    expect(access.isAdmin(slack('A'))).toBe(true);
    expect(access.isAdmin(slack('M'))).toBe(false);
  });

  it('the highest role wins when an actor is in several lists', () => {
    expect(accessFor({ access: { viewers: ['slack:U1'], admins: ['slack:U1'] } }).roleOf(slack('U1'))).toBe('admin');
  });

  it('wildcards match every actor of one platform only', () => {
    const access = accessFor({ access: { members: ['slack:*'], viewers: ['console:*'] } });
    expect(access.roleOf(slack('anyone'))).toBe('member');
    expect(access.roleOf(discord('1'))).toBe('none');
    expect(access.roleOf({ id: 'slackbot:x' })).toBe('none');
    const consoles = accessFor({ access: { consoleIsAdmin: false, admins: ['console:*'] } });
    expect(consoles.roleOf(console_('zed'))).toBe('admin');
    expect(consoles.roleOf(slack('U1'))).toBe('none');
  });

  it('discord roles are groups that access rules may name', () => {
    const access = accessFor({ access: { members: ['discord-role:789'] } });
    expect(access.roleOf(discord('1', ['789']))).toBe('member');
    expect(access.roleOf(discord('2', ['111']))).toBe('none');
    expect(access.roleOf(discord('3'))).toBe('none');
    // `discord-role:*` means anyone with some role; a user without roles is not covered.
    const anyRole = accessFor({ access: { members: ['discord-role:*'] } });
    expect(anyRole.roleOf(discord('1', ['5']))).toBe('member');
    expect(anyRole.roleOf(discord('2'))).toBe('none');
    expect(accessFor({ access: { members: ['discord:*'] } }).roleOf(discord('3'))).toBe('member');
  });

  it('platform allow-lists in the environment make members', () => {
    const access = accessFor({}, { SLACK_ALLOWED_USERS: 'U1, U2,,', DISCORD_ALLOWED_USERS: '42', DISCORD_ALLOWED_ROLES: '789' });
    expect(access.roleOf(slack('U1'))).toBe('member');
    expect(access.roleOf(slack('U2'))).toBe('member');
    expect(access.roleOf(slack('U3'))).toBe('none');
    expect(access.roleOf(discord('42'))).toBe('member');
    expect(access.roleOf(discord('7', ['789']))).toBe('member');
    expect(access.roleOf(discord('7'))).toBe('none');
  });

  it('per-name and per-executor lists raise the role in their scope only', () => {
    const access = accessFor({
      access: {
        viewers: ['slack:U1'],
        admins: ['slack:BOSS'],
        names: { kumo: { members: ['slack:U1'], admins: ['slack:U2'] } },
        executors: { crib: { members: ['discord-role:42'] } },
      },
    });
    expect(access.roleOf(slack('U1'))).toBe('viewer');
    expect(access.roleOf(slack('U1'), { name: 'kumo' })).toBe('member');
    expect(access.roleOf(slack('U1'), { name: 'hetc' })).toBe('viewer');
    expect(access.roleOf(slack('U2'), { name: 'kumo' })).toBe('admin');
    expect(access.roleOf(slack('U2'))).toBe('none');
    expect(access.roleOf(discord('5', ['42']), { executor: 'crib' })).toBe('member');
    expect(access.roleOf(discord('5', ['42']))).toBe('none');
    // A scoped list never lowers a role.
    expect(access.roleOf(slack('BOSS'), { name: 'kumo' })).toBe('admin');
    access.require(slack('U1'), 'work', 'send', { name: 'kumo' });
    forbidden(() => access.require(slack('U1'), 'work', 'send', { name: 'hetc' }));
  });
});

describe('requireChannel', () => {
  it('an empty list denies every channel and says how to allow one', () => {
    const access = accessFor();
    const error = forbidden(() => access.requireChannel({ adapter: 'slack', channel: 'C123' }));
    expect(error.message).toBe('this channel (C123) may not command Switchboard');
    expect(error.hint).toBe('no channel is allowed yet: set SLACK_ALLOWED_CHANNELS=C123 (comma-separated ids, or * for all)');
    expect(forbidden(() => access.requireChannel({ adapter: 'discord', channel: '999' })).hint).toContain('DISCORD_ALLOWED_CHANNELS=999');
  });

  it('`*` allows every channel', () => {
    const access = accessFor({}, { SLACK_ALLOWED_CHANNELS: '*' });
    expect(() => access.requireChannel({ adapter: 'slack', channel: 'C1' })).not.toThrow();
    expect(() => access.requireChannel({ adapter: 'slack', channel: 'anything' })).not.toThrow();
    // Other platforms keep their own list.
    forbidden(() => access.requireChannel({ adapter: 'discord', channel: '1' }));
  });

  it('listed channels are allowed; others are told the current list', () => {
    const access = accessFor({}, { DISCORD_ALLOWED_CHANNELS: '111, 222' });
    expect(() => access.requireChannel({ adapter: 'discord', channel: '111' })).not.toThrow();
    expect(() => access.requireChannel({ adapter: 'discord', channel: '222' })).not.toThrow();
    const error = forbidden(() => access.requireChannel({ adapter: 'discord', channel: '333' }));
    expect(error.hint).toBe('an admin can add 333 to DISCORD_ALLOWED_CHANNELS (now: 111, 222)');
  });

  it('adapters without a channel rule (the console) are not restricted', () => {
    expect(() => accessFor().requireChannel({ adapter: 'console', channel: 'tty' })).not.toThrow();
  });

  it('rules built by hand: an adapter absent from `channels` is unrestricted', () => {
    const rules: AccessRules = { names: {}, executors: {}, consoleIsAdmin: true };
    expect(() => createAccess(rules).requireChannel({ adapter: 'slack', channel: 'C1' })).not.toThrow();
  });
});

describe('requireOwnerOrAdmin', () => {
  const access = accessFor({ access: { members: ['slack:U1', 'slack:U2'], admins: ['slack:A'] } });

  it('the owner may act on their own work', () => {
    expect(() => access.requireOwnerOrAdmin(slack('U1'), 'slack:U1', 'abort kumo')).not.toThrow();
  });

  it('another member may not, and is told whose it is', () => {
    const error = forbidden(() => access.requireOwnerOrAdmin(slack('U2'), 'slack:U1', 'abort kumo'));
    expect(error.message).toBe('slack:U2 may not abort kumo: it belongs to slack:U1');
    expect(error.hint).toBe('only slack:U1 or an admin may do that');
  });

  it('an admin (global, scoped, or the console) may', () => {
    expect(() => access.requireOwnerOrAdmin(slack('A'), 'slack:U1', 'abort kumo')).not.toThrow();
    expect(() => access.requireOwnerOrAdmin(console_(), 'slack:U1', 'abort kumo')).not.toThrow();
    const scoped = accessFor({ access: { names: { kumo: { admins: ['slack:U2'] } } } });
    expect(() => scoped.requireOwnerOrAdmin(slack('U2'), 'slack:U1', 'abort kumo', { name: 'kumo' })).not.toThrow();
    forbidden(() => scoped.requireOwnerOrAdmin(slack('U2'), 'slack:U1', 'abort hetc', { name: 'hetc' }));
  });
});
