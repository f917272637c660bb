import { randomBytes } from 'node:crypto';
import type { SecretBox } from './secret-box.js';
import type { HostRow } from './store.js';

type RowKey = Pick<HostRow, 'executor' | 'serverId'>;

/** Binds a sealed password to its row: moved to another row, it does not open. */
const context = (row: RowKey) => `opencode-host:${row.executor}:${row.serverId}`;

export type Passwords = ReturnType<typeof createPasswords>;

/**
 * Managed servers' passwords: in memory for this process, and sealed into their rows with SWITCHBOARD_SECRET.
 * Without the secret they live in memory only, so a bot restart means a server restart with a new one.
 */
export function createPasswords(box: SecretBox) {
  const known = new Map<string, string>();
  return {
    /** False without SWITCHBOARD_SECRET. */
    persistent: box.persistent,
    /** For a start: the one in use (a restart keeps it: clients holding it go on working), else a new one. */
    forStart(executor: string): string {
      return known.get(executor) ?? randomBytes(24).toString('base64url');
    },
    /** The server's password: from memory, else unsealed from its row; null when neither has it. */
    of(row: RowKey & Pick<HostRow, 'passwordSealed'>): string | null {
      return known.get(row.executor) ?? (row.passwordSealed ? box.open(row.passwordSealed, context(row)) : null);
    },
    /** What the row stores: null without SWITCHBOARD_SECRET. */
    seal(password: string, row: RowKey): string | null {
      return box.seal(password, context(row));
    },
    remember(executor: string, password: string): void {
      known.set(executor, password);
    },
    forget(executor: string): void {
      known.delete(executor);
    },
    /** Every password in memory, for the scrubber. */
    all(): string[] {
      return [...known.values()];
    },
    /** Why the password of a server started before this process cannot be had, as the user is told it. */
    whyLost(row: Pick<HostRow, 'passwordSealed'>): string {
      if (!box.persistent) {
        return 'SWITCHBOARD_SECRET is not set, so its password was kept in memory only and is lost with the restart; it was restarted with a new password (set SWITCHBOARD_SECRET to keep servers across restarts)';
      }
      return row.passwordSealed
        ? 'its password was sealed with another SWITCHBOARD_SECRET; it was restarted with a new password'
        : 'its password was kept in memory only (SWITCHBOARD_SECRET was not set then); it was restarted with a new password';
    },
  };
}
