import { execFileSync } from 'node:child_process';

/** Stops the tmux server a test's executor ran on (its own `-L` socket); none left running is fine. */
export function killTmuxServer(socket: string): void {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // no server left: fine
  }
}
