import { DeliveryError, type OutgoingMessage } from '../../src/core/adapter.js';

/**
 * What every chat adapter decides the same way about who a message is for. Actors are `<platform>:<id>`; only
 * an actor of this platform can be mentioned or answered privately here.
 */

/** The platform's own user id of `actor`, or undefined for someone of another platform (or nobody). */
export function platformUser(platform: string, actor: string | undefined): string | undefined {
  const prefix = `${platform}:`;
  return actor?.startsWith(prefix) ? actor.slice(prefix.length) : undefined;
}

/**
 * The private-reply guard: a message meant for one person who is not a user of this platform is refused for good,
 * never shown to the whole channel instead. Returns that person's platform id when the message is private.
 */
export function privateRecipient(platform: string, label: string, message: OutgoingMessage): string | undefined {
  if (message.privateTo === undefined) return undefined;
  const user = platformUser(platform, message.privateTo);
  if (user === undefined) throw new DeliveryError(`private message for ${message.privateTo} cannot be shown in ${label}`, { permanent: true });
  return user;
}
