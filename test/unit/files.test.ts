import { afterAll, describe, expect, it } from 'vitest';
import { fileConfigSchema } from '../../src/config/schema.js';
import { promptEcho } from '../../src/core/echo.js';
import { SwitchboardError } from '../../src/errors.js';
import { checkFiles, downloadFiles, formatSize, inboundFile, parseSize, safeFileName, uniqueFileNames, type FetchFile, type FileLimits, type InboundFile } from '../../src/files/index.js';
import { attachmentFiles, promptWithAttachments } from '../../src/executors/protocol/task-files.js';
import { slashLayout } from '../../adapters/discord/slash-commands.js';
import { errorCode, plain, startCore } from './helpers/core-app.js';

const LIMITS: FileLimits = { maxBytes: 1024, maxFiles: 2, types: ['image/*', 'text/*', 'application/json'] };
const file = (over: Partial<InboundFile> = {}): InboundFile => ({ name: 'a.txt', size: 10, mimeType: 'text/plain', url: 'https://files.example/a', ...over });

/** A fetch that serves `chunks` one by one and records what was asked and whether the body was cancelled. */
function fakeFetch(chunks: Uint8Array[], init: ResponseInit = {}) {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  let pulled = 0;
  let cancelled = false;
  const fetchFile: FetchFile = async (url, options) => {
    calls.push({ url, headers: options.headers });
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled < chunks.length) controller.enqueue(chunks[pulled++]!);
        else controller.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/plain' }, ...init });
  };
  return { fetchFile, calls, pulled: () => pulled, cancelled: () => cancelled };
}

async function refusal(promise: Promise<unknown>): Promise<SwitchboardError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwitchboardError);
  return error as SwitchboardError;
}

describe('sizes and types', () => {
  it('reads 10MB, 512KB, 1.5MB and bare bytes, and writes sizes back for people', () => {
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024);
    expect(parseSize('512KB')).toBe(512 * 1024);
    expect(parseSize('1.5MB')).toBe(1.5 * 1024 * 1024);
    expect(parseSize('2048')).toBe(2048);
    expect(() => parseSize('ten megs')).toThrow(/not a size/);
    expect([formatSize(300), formatSize(12 * 1024), formatSize(1.5 * 1024 * 1024)]).toEqual(['300 B', '12 KB', '1.5 MB']);
  });

  it('files: in switchboard.yaml has sane defaults and says what is wrong at the field', () => {
    expect(fileConfigSchema.parse({}).files).toEqual({ maxBytes: 10 * 1024 * 1024, maxFiles: 5, types: expect.arrayContaining(['image/png', 'text/*', 'application/json', 'application/pdf']) });
    expect(fileConfigSchema.parse({ files: { maxBytes: '512KB', types: ['image/*'] } }).files).toMatchObject({ maxBytes: 512 * 1024, maxFiles: 5, types: ['image/*'] });
    const bad = fileConfigSchema.safeParse({ files: { maxBytes: 'lots', types: ['images'] } });
    expect(bad.success).toBe(false);
    const issues = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(/^files\.maxBytes: 'lots' is not a size/), expect.stringMatching(/^files\.types\.0: must be a media type/)]));
  });
});

describe('safe file names', () => {
  it('keeps a plain basename and makes hostile ones harmless: no path, no NUL or controls, no leading dash or dot', () => {
    expect(safeFileName('screenshot 1.png')).toBe('screenshot 1.png');
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..\\..\\boot.ini')).toBe('boot.ini');
    expect(safeFileName('-rf')).toBe('rf');
    expect(safeFileName('.bashrc')).toBe('bashrc');
    expect(safeFileName('a\u0000b\nc$(reboot).txt')).toBe('a_b_c__reboot_.txt');
    expect(safeFileName('`x`;y|z.log')).toBe('x__y_z.log');
    expect(safeFileName('..')).toBe('file');
    expect(safeFileName('')).toBe('file');
    expect(safeFileName(`${'x'.repeat(300)}.png`)).toMatch(/^x{96}\.png$/);
    expect(uniqueFileNames(['a.png', 'A.png', 'dir/a.png'])).toEqual(['a.png', 'A-2.png', 'a-3.png']);
  });

  it('the executor layer refuses any name that is not a safe basename, and names the files after the prompt', () => {
    const data = Buffer.from('x');
    expect(attachmentFiles([{ name: 'a.png', size: 1, mimeType: 'image/png', data }])).toEqual([{ name: 'files/a.png', data, mode: 0o600 }]);
    for (const name of ['../a', '-x', '.hidden', 'a/b', 'a\u0000b', 'a\nb']) {
      expect(() => attachmentFiles([{ name, size: 1, mimeType: 'text/plain', data }])).toThrow(/not a safe file name/);
    }
    expect(promptWithAttachments('fix it', '/tmp/sb.x', [])).toBe('fix it');
    expect(promptWithAttachments('fix it\n', '/tmp/sb.x', [{ name: 'a.png', size: 12 * 1024, mimeType: 'image/png', data }])).toBe(
      'fix it\n\n\nAttached files (in /tmp/sb.x/files): a.png (12 KB, image/png)',
    );
  });
});

describe('checking before downloading', () => {
  it('refuses too many files, a declared size over the limit, and a type not allowed, naming the file', () => {
    expect(() => checkFiles([file(), file(), file()], LIMITS)).toThrow('3 files attached; at most 2 may go with one prompt. Nothing was sent');
    expect(() => checkFiles([file({ name: 'big.log', size: 4096 })], LIMITS)).toThrow('"big.log" is 4 KB; the limit is 1 KB a file. Nothing was sent');
    expect(() => checkFiles([file({ name: 'x.zip', mimeType: 'application/zip' })], LIMITS)).toThrow('"x.zip" is application/zip, which may not be attached');
    // No declared type: the extension decides, and an unknown one is not allowed.
    expect(() => checkFiles([file({ name: 'notes.md', mimeType: '' })], LIMITS)).not.toThrow();
    expect(() => checkFiles([file({ name: 'blob.bin', mimeType: '' })], LIMITS)).toThrow('application/octet-stream');
    expect(() => checkFiles([file({ name: 'a\u0000.txt' })], LIMITS)).toThrow(/NUL/);
  });
});

describe('the download helper', () => {
  it('sends the authorization header and returns the bytes under a safe name', async () => {
    const fake = fakeFetch([Buffer.from('hello '), Buffer.from('world')]);
    const [got] = await downloadFiles([inboundFile({ ...file(), name: '../x.txt' }, 'Bearer xoxb-1')], LIMITS, fake.fetchFile);
    expect(got).toMatchObject({ name: 'x.txt', size: 11, mimeType: 'text/plain' });
    expect(got!.data.toString()).toBe('hello world');
    expect(fake.calls).toEqual([{ url: 'https://files.example/a', headers: { authorization: 'Bearer xoxb-1' } }]);
  });

  it('keeps the token out of logs: not enumerable, not in JSON', () => {
    const f = inboundFile(file(), 'Bearer xoxb-secret');
    expect(f.authorization).toBe('Bearer xoxb-secret');
    expect(JSON.stringify(f)).not.toContain('xoxb');
  });

  it('cuts a download off as soon as it passes maxBytes, whatever was declared', async () => {
    const chunk = new Uint8Array(400);
    const fake = fakeFetch([chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk]);
    const error = await refusal(downloadFiles([file({ size: 10 })], LIMITS, fake.fetchFile));
    expect(error.code).toBe('file_refused');
    expect(error.message).toBe('"a.txt" is larger than the limit of 1 KB a file. Nothing was sent');
    expect(fake.pulled()).toBeLessThanOrEqual(4);
    expect(fake.cancelled()).toBe(true);
  });

  it('refuses a Content-Length over the limit before reading the body', async () => {
    const fake = fakeFetch([new Uint8Array(10)], { headers: { 'content-type': 'text/plain', 'content-length': '5000' } });
    expect((await refusal(downloadFiles([file()], LIMITS, fake.fetchFile))).code).toBe('file_refused');
  });

  it('says why a download failed: HTTP status, a sign-in page instead of the file, the network', async () => {
    const status = await refusal(downloadFiles([file()], LIMITS, async () => new Response('no', { status: 401 })));
    expect([status.code, status.message]).toEqual(['file_download_failed', 'could not download "a.txt" (HTTP 401: not allowed to read it). Nothing was sent']);
    const html = await refusal(downloadFiles([file()], LIMITS, async () => new Response('<html>', { headers: { 'content-type': 'text/html' } })));
    expect(html.message).toMatch(/sent a web page instead of the file; does the bot have permission to read files \(Slack: files:read\)/);
    const network = await refusal(
      downloadFiles([file()], LIMITS, async () => {
        throw new TypeError('fetch failed');
      }),
    );
    expect(network.message).toBe('could not download "a.txt" (fetch failed). Nothing was sent');
    const nowhere = await refusal(downloadFiles([file({ url: '' })], LIMITS, async () => new Response('x')));
    expect(nowhere.message).toBe('could not download "a.txt" (the platform gave no link to download it from). Nothing was sent');
  });
});

describe('the echo and the core', () => {
  it('the echo lists the files under the verbatim prompt', () => {
    const blocks = promptEcho('look *here*', [{ name: 'a.png', size: 2048, mimeType: 'image/png' }, { name: 'b.txt', size: 12, mimeType: 'text/plain' }]);
    expect(blocks[0]).toMatchObject({ type: 'verbatim', text: 'look *here*' });
    expect(blocks.at(-1)).toMatchObject({ text: '📎 2 files: `a.png` (2 KB, image/png) · `b.txt` (12 B, text/plain)' });
  });

  const core = startCore({ yaml: 'access:\n  members: ["slack:*"]\n' });
  afterAll(() => core.close());

  it('a verb that takes no files refuses them (nothing runs); send and start take them', async () => {
    const reply = await core.app.switchboard.execute(
      { text: 'sessions', actor: { id: 'slack:U1' }, origin: { adapter: 'slack', channel: 'CWORK' }, files: [file()] },
      { post: false },
    );
    expect(errorCode(reply)).toBe('usage');
    expect(plain(reply)).toContain('`sessions` takes no files; the attached file was not used');
    const takes = core.app.switchboard.services.grammar.filter((spec) => spec.files).map((spec) => spec.verb);
    expect(takes.sort()).toEqual(['send', 'start']);
  });

  it('the Discord slash command gets an optional attachment option on the verbs that take files, and only there', () => {
    const layout = slashLayout(core.app.switchboard.services.grammar);
    const withFile = [...layout.verbs.values()].filter((v) => v.fields.some((f) => f.kind === 'file')).map((v) => v.verb);
    expect(withFile.sort()).toEqual(['send', 'start']);
    const json = JSON.stringify(layout.body);
    expect(json).toContain('"name":"file"');
    expect(json).toMatch(/"name":"file","description":"[^"]*","required":false,"type":11/);
  });
});
