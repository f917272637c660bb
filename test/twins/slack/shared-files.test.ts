import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackTwin, type SlackTwin } from './index.js';

/** Files shared in a message: the event's entry, and url_private_download serving the bytes to the bot token only. */
let twin: SlackTwin;
beforeAll(async () => {
  twin = await startSlackTwin({ signingSecret: 'files-secret', botToken: 'xoxb-files' });
});
afterAll(() => twin.close());

describe('the Slack twin’s shared files', () => {
  it('describes a file as Slack does and serves its bytes with the bot token; 401 without it or with another', async () => {
    const entry = twin.sharedFiles.share({ name: 'shot.png', mimetype: 'image/png', content: Buffer.from([1, 2, 3]) }, 'U1', Date.now());
    expect(entry).toMatchObject({ name: 'shot.png', mimetype: 'image/png', size: 3, mode: 'hosted', user: 'U1' });
    const url = String(entry['url_private_download']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files-pri\/TTWIN0001-F\w+\/download\/shot\.png$/);
    const ok = await fetch(url, { headers: { authorization: 'Bearer xoxb-files' } });
    expect([ok.status, ok.headers.get('content-type'), [...new Uint8Array(await ok.arrayBuffer())]]).toEqual([200, 'image/png', [1, 2, 3]]);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer xoxb-other' } })).status).toBe(401);
    expect((await fetch(String(entry['url_private']), { headers: { authorization: 'Bearer xoxb-files' } })).status).toBe(200);
    expect(twin.sharedFiles.downloads.map((d) => d.status)).toEqual([200, 401, 401, 200]);
  });

  it('a declared size may differ from the bytes (a test of a download that runs past what was declared)', () => {
    const entry = twin.sharedFiles.share({ name: 'small.txt', mimetype: 'text/plain', size: 10, content: 'x'.repeat(100) }, 'U1', Date.now());
    expect(entry['size']).toBe(10);
  });
});
