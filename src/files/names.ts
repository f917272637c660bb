import { SwitchboardError } from '../errors.js';

/** Characters no file name we write keeps: path separators, NUL and other controls, and the shell's specials. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f/\\:*?"<>|`$;&'!{}[\]()~#%\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const MAX_NAME = 100;

/**
 * A safe basename for a file someone attached: what is after the last `/` or `\`, unsafe characters made `_`,
 * no leading dots or dashes (`../x`, `-rf`, `.bashrc`), at most 100 characters with the extension kept. Never
 * empty: a name with nothing usable left becomes `file`. The result never reaches a shell; it is only ever a
 * path written through the host layer, and text in a prompt.
 */
export function safeFileName(raw: string): string {
  const base = raw.split(/[/\\]/).pop() ?? '';
  let name = base.normalize('NFC').replace(UNSAFE, '_').replace(/\s+/g, ' ').trim();
  name = name.replace(/^[.\-\s_]+/, '');
  if (name.length > MAX_NAME) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 12 ? name.slice(dot) : '';
    name = name.slice(0, MAX_NAME - ext.length) + ext;
  }
  return name === '' || /^_+$/.test(name) ? 'file' : name;
}

/** The names for a set of files, each safe and none twice (`a.png`, `a-2.png`). */
export function uniqueFileNames(raws: readonly string[]): string[] {
  const used = new Set<string>();
  return raws.map((raw) => {
    const safe = safeFileName(raw);
    let name = safe;
    const dot = safe.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [safe.slice(0, dot), safe.slice(dot)] : [safe, ''];
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${stem}-${n}${ext}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/** A name that carried a NUL byte is refused outright: no platform sends one, so it was crafted. */
export function refuseNul(raw: string): void {
  if (raw.includes('\u0000')) throw new SwitchboardError('file_refused', 'a file name contains a NUL byte; nothing was sent');
}
