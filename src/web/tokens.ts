import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Actor } from '../core/origin.js';
import type { Db } from '../sessions/database.js';

/** A link is good for 15 minutes and once; the session it opens lasts 8 hours. */
export const LINK_TTL_MS = 15 * 60_000;
export const SESSION_TTL_MS = 8 * 3_600_000;
export const SESSION_COOKIE = 'sb_session';

export type TokenRefusal = 'missing' | 'forged' | 'expired' | 'reused';

export interface Session {
  actor: Actor;
  expiresAt: number;
}

const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/**
 * One-time links and session cookies, both `payload.signature` with HMAC-SHA256 under the page's key. A link
 * carries only a nonce and its expiry; who asked is in `web_tokens`, and the row is marked used on the first
 * opening, so a link works once, in this bot's database, for the person who asked.
 */
export function createTokens(db: Db, clock: Clock, key: Buffer) {
  const insert = db.prepare('INSERT INTO web_tokens (nonce, actor, issued_at, expires_at) VALUES (?, ?, ?, ?)');
  const claim = db.prepare('UPDATE web_tokens SET used_at = ? WHERE nonce = ? AND used_at IS NULL AND expires_at > ?');
  const lookup = db.prepare<[string], { actor: string; expires_at: number; used_at: number | null }>('SELECT actor, expires_at, used_at FROM web_tokens WHERE nonce = ?');
  const prune = db.prepare('DELETE FROM web_tokens WHERE expires_at < ?');

  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest();

  function signed(payload: string): string {
    return `${payload}.${b64(sign(payload))}`;
  }

  /** The payload of `value` when its signature is this key's, else undefined. */
  function verify(value: string): string | undefined {
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = sign(payload);
    return given.length === expected.length && timingSafeEqual(given, expected) ? payload : undefined;
  }

  function parse<T>(payload: string): T | undefined {
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  return {
    /** A fresh link token for `actor`. */
    mint(actor: Actor): string {
      const now = clock.now();
      prune.run(now - LINK_TTL_MS);
      const nonce = randomBytes(18).toString('base64url');
      const expiresAt = now + LINK_TTL_MS;
      insert.run(nonce, JSON.stringify({ id: actor.id, ...(actor.name ? { name: actor.name } : {}), ...(actor.groups ? { groups: actor.groups } : {}) }), now, expiresAt);
      return signed(b64(JSON.stringify({ n: nonce, e: expiresAt })));
    },
    /** Opens a link: the asker, or why not. The token is spent by this call. */
    redeem(token: string | undefined): Actor | TokenRefusal {
      if (!token) return 'missing';
      const payload = token.length <= 512 ? verify(token) : undefined;
      const body = payload === undefined ? undefined : parse<{ n?: unknown; e?: unknown }>(payload);
      if (!body || typeof body.n !== 'string' || typeof body.e !== 'number') return 'forged';
      const now = clock.now();
      const row = lookup.get(body.n);
      if (!row) return 'forged';
      if (row.used_at !== null) return 'reused';
      if (row.expires_at <= now || body.e <= now) return 'expired';
      if (claim.run(now, body.n, now).changes === 0) return 'reused';
      return JSON.parse(row.actor) as Actor;
    },
    /** The cookie value of a session for `actor`, from now. */
    session(actor: Actor): Session & { cookie: string } {
      const expiresAt = clock.now() + SESSION_TTL_MS;
      return { actor, expiresAt, cookie: signed(b64(JSON.stringify({ a: actor, e: expiresAt }))) };
    },
    /** The session a cookie value stands for: undefined when forged (another key), malformed or expired. */
    readSession(cookie: string | undefined): Session | undefined {
      if (!cookie || cookie.length > 4096) return undefined;
      const payload = verify(cookie);
      const body = payload === undefined ? undefined : parse<{ a?: Actor; e?: unknown }>(payload);
      if (!body?.a || typeof body.a.id !== 'string' || typeof body.e !== 'number' || body.e <= clock.now()) return undefined;
      return { actor: body.a, expiresAt: body.e };
    },
  };
}

export type Tokens = ReturnType<typeof createTokens>;

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
