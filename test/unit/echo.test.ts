import { describe, expect, it } from 'vitest';
import { bidiNotice, promptEcho } from '../../src/core/echo.js';
import { text, verbatim } from '../../src/core/reply.js';

describe('promptEcho: the exact bytes, and a line naming any bidirectional controls', () => {
  it('a prompt without them is echoed as one verbatim block, nothing added', () => {
    const plain = 'fix it 😀 العربية עברית a\u200bb';
    expect(promptEcho(plain)).toEqual([verbatim(plain)]);
    expect(bidiNotice(plain)).toBeNull();
  });

  it('counts each kind, in order of first appearance, by name and code point; the bytes stay exact', () => {
    const prompt = 'approve \u202eexe.txt\u202c and \u2066x\u2069 \u202e';
    const [echo, notice] = promptEcho(prompt);
    expect(echo).toEqual(verbatim(prompt));
    expect(notice).toEqual(
      text(
        '⚠️ this prompt contains 2 right-to-left override characters (U+202E), 1 pop directional formatting character (U+202C), ' +
          '1 left-to-right isolate character (U+2066) and 1 pop directional isolate character (U+2069): invisible, and able to make ' +
          'the text above display in a different order than it was sent',
      ),
    );
  });

  it('covers every embedding, override, isolate and mark, and quotes nothing of the prompt', () => {
    const all = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c';
    const notice = bidiNotice(`secret-looking ${all}`)!;
    for (const code of ['202A', '202B', '202C', '202D', '202E', '2066', '2067', '2068', '2069', '200E', '200F', '061C']) expect(notice).toContain(`(U+${code})`);
    expect(notice).not.toContain('secret');
    expect(notice).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/);
    expect(bidiNotice('\u200f')).toBe('⚠️ this prompt contains 1 right-to-left mark character (U+200F): invisible, and able to make the text above display in a different order than it was sent');
  });
});
