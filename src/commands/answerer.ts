import type { ContextWith } from './context.js';
import type { NameRecord } from '../sessions/registry.js';
import { scopeOf } from './targets.js';

/**
 * Only the person who sent the prompt that is waiting (or an admin) may answer its permission requests and
 * questions: approving a tool call is running code on someone's machine in their name.
 */
export function requireAnswerer(ctx: ContextWith<'access' | 'monitor' | 'registry'>, record: NameRecord, what: string): void {
  const { access, monitor, registry } = ctx.services;
  const watched = monitor.watching(record.name);
  const sender = watched?.sender ?? (record.lastPromptId !== undefined ? registry.prompt(record.lastPromptId)?.actor : undefined) ?? record.owner;
  access.require(ctx.actor, 'work', what, scopeOf(record));
  access.requireOwnerOrAdmin(ctx.actor, sender, what, scopeOf(record));
}
