/**
 * POSIX single quoting: the one way Switchboard puts a value on a shell line. Inside '…' nothing is special,
 * and a quote itself becomes '\''. Works in sh, bash, zsh and dash, which is what a remote login shell may be.
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A command line from argv, every word quoted. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
