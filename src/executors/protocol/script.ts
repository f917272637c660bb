/**
 * Script text as typed (raw: backslashes stay), except that bash's `$` + `{…}` must be typed with a backslash
 * before the dollar sign, because JavaScript would read `$` + `{` as a placeholder; the backslash is dropped here.
 * No interpolation: scripts are static, values reach them as positional arguments.
 */
export function bash(strings: TemplateStringsArray): string {
  return strings.raw.join('').replaceAll('\\${', '${');
}
