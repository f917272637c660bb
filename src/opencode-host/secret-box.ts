import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

/**
 * Seals small secrets (the passwords of OpenCode servers Switchboard starts) for the database: AES-256-GCM with
 * a key derived from SWITCHBOARD_SECRET by scrypt, a fresh 96-bit IV per value, and the row's identity as
 * associated data, so a sealed value moved to another row does not open. Without a secret nothing is sealed:
 * the caller keeps the value in memory only.
 */
export interface SecretBox {
  /** False without SWITCHBOARD_SECRET: `seal` returns null and values live in memory only. */
  readonly persistent: boolean;
  seal(plain: string, context: string): string | null;
  /** Null when the value was sealed with another secret, for another context, or was tampered with. */
  open(sealed: string, context: string): string | null;
}

const VERSION = 'sb1';
const SALT = 'switchboard/secret-box/v1';

export function createSecretBox(secret: string | undefined): SecretBox {
  if (!secret) {
    return { persistent: false, seal: () => null, open: () => null };
  }
  let key: Buffer | undefined;
  // scrypt costs ~100 ms: derive once, when first needed.
  const keyOf = () => (key ??= scryptSync(secret, SALT, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }));
  return {
    persistent: true,
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyOf(), iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || body === undefined) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', keyOf(), Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}
