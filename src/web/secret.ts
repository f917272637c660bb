import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The key that signs the page's links and session cookies. From SWITCHBOARD_SECRET when set (derived, so the
 * secret itself signs nothing); else 32 random bytes made once and kept in a 0600 file beside the database, so
 * links and sessions survive a restart. `file` undefined (an in-memory database): a key for this process only.
 */
export function webKey(secret: string | undefined, file: string | undefined): Buffer {
  if (secret !== undefined) return createHmac('sha256', secret).update('switchboard fleet page v1').digest();
  if (file === undefined) return randomBytes(32);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(kept)) return Buffer.from(kept, 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}
