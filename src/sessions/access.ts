import { SwitchboardError } from '../errors.js';
import type { Actor } from '../core/origin.js';

export type Role = 'admin' | 'member' | 'viewer' | 'none';
/** What a verb needs: reading state, making agents do work, or administering. */
export type Level = 'read' | 'work' | 'admin';

export interface RoleLists {
  admins?: string[];
  members?: string[];
  viewers?: string[];
}

export interface AccessRules extends RoleLists {
  names: Record<string, RoleLists>;
  executors: Record<string, RoleLists>;
  consoleIsAdmin: boolean;
  /**
   * Per adapter, the channels commands may come from, and the variable that lists them (for the refusal).
   * An adapter absent here is not restricted by channel; an empty list denies every channel.
   */
  channels?: Record<string, { allowed: readonly string[]; setting: string }>;
  /** Per adapter, the variable that grants users the member role, for refusal hints. */
  userSettings?: Record<string, string>;
}

const RANK: Record<Role, number> = { none: 0, viewer: 1, member: 2, admin: 3 };
const NEEDED: Record<Level, Role> = { read: 'viewer', work: 'member', admin: 'admin' };

function matches(list: readonly string[] | undefined, identities: readonly string[]): boolean {
  if (!list) return false;
  return list.some((entry) => {
    if (entry.endsWith(':*')) return identities.some((id) => id.startsWith(entry.slice(0, -1)));
    return identities.includes(entry);
  });
}

function roleIn(lists: RoleLists, identities: readonly string[]): Role {
  if (matches(lists.admins, identities)) return 'admin';
  if (matches(lists.members, identities)) return 'member';
  if (matches(lists.viewers, identities)) return 'viewer';
  return 'none';
}

export interface Scope {
  name?: string;
  executor?: string;
}

export type Access = ReturnType<typeof createAccess>;

/** Role checks, done once in the core for every adapter. */
export function createAccess(rules: AccessRules) {
  function roleOf(actor: Actor, scope: Scope = {}): Role {
    const identities = [actor.id, ...(actor.groups ?? [])];
    let role = roleIn(rules, identities);
    if (role !== 'admin' && rules.consoleIsAdmin && actor.id.startsWith('console:')) role = 'admin';
    const scoped = [scope.name ? rules.names[scope.name] : undefined, scope.executor ? rules.executors[scope.executor] : undefined];
    for (const lists of scoped) {
      if (!lists) continue;
      const extra = roleIn(lists, identities);
      if (RANK[extra] > RANK[role]) role = extra;
    }
    return role;
  }

  function refuse(actor: Actor, what: string, needed: Role, scope: Scope): never {
    const list = `${needed}s`;
    const platform = actor.id.split(':')[0] ?? '';
    const userSetting = needed === 'member' ? rules.userSettings?.[platform] : undefined;
    const where = scope.name
      ? `\`access.${list}\` (or \`access.names.${scope.name}.${list}\`)`
      : scope.executor
        ? `\`access.${list}\` (or \`access.executors.${scope.executor}.${list}\`)`
        : `\`access.${list}\``;
    throw new SwitchboardError('forbidden', `${actor.id} may not ${what}: it needs the ${needed} role`, {
      hint: `an admin can add \`${actor.id}\` under ${where} in switchboard.yaml${userSetting ? ` (or its id to ${userSetting})` : ''}`,
    });
  }

  return {
    roleOf,
    /** Refuses commands from channels the adapter's allow-list does not name. */
    requireChannel(origin: { adapter: string; channel: string }): void {
      const rule = rules.channels?.[origin.adapter];
      if (!rule || rule.allowed.includes('*') || rule.allowed.includes(origin.channel)) return;
      throw new SwitchboardError('forbidden', `this channel (${origin.channel}) may not command Switchboard`, {
        hint: rule.allowed.length
          ? `an admin can add ${origin.channel} to ${rule.setting} (now: ${rule.allowed.join(', ')})`
          : `no channel is allowed yet: set ${rule.setting}=${origin.channel} (comma-separated ids, or * for all)`,
      });
    },
    isAdmin(actor: Actor, scope: Scope = {}): boolean {
      return roleOf(actor, scope) === 'admin';
    },
    /** Throws `forbidden`, saying exactly what to add where, unless the actor has the level here. */
    require(actor: Actor, level: Level, what: string, scope: Scope = {}): void {
      const needed = NEEDED[level];
      if (RANK[roleOf(actor, scope)] < RANK[needed]) refuse(actor, what, needed, scope);
    },
    /** Members act on their own work; acting on someone else's takes an admin. */
    requireOwnerOrAdmin(actor: Actor, owner: string, what: string, scope: Scope = {}): void {
      if (actor.id === owner) return;
      if (roleOf(actor, scope) !== 'admin') {
        throw new SwitchboardError('forbidden', `${actor.id} may not ${what}: it belongs to ${owner}`, {
          hint: `only ${owner} or an admin may do that`,
        });
      }
    },
  };
}
