import { request } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderCard, type CardState } from '../../src/monitor/card.js';
import { createTokens } from '../../src/web/tokens.js';
import { errorCode, plain, seedTask, startCore, type Core } from '../unit/helpers/core-app.js';

/**
 * The fleet page's doors, through the real core (createApp on a temp database) and the page's real HTTP server on
 * port 0, with node's fetch: links, cookies, scope, static paths, limits. The browser tests are in page.test.ts.
 */
const YAML = `access:
  admins: ['slack:UADMIN']
  names:
    kumo:
      viewers: ['slack:UVIEW']
`;
const ADMIN = { id: 'slack:UADMIN', name: 'ada' };
const VIEWER = { id: 'slack:UVIEW', name: 'vic' };
const cores: Core[] = [];

async function open(env: Record<string, string> = {}, dir?: string): Promise<Core & { base: string }> {
  const core = startCore({ yaml: YAML, env: { WEB_PORT: '0', ...env }, ...(dir ? { dir } : {}) });
  cores.push(core);
  await core.app.web!.start();
  const { port } = core.app.web!.address()!;
  return Object.assign(core, { base: `http://127.0.0.1:${port}` });
}

afterEach(async () => {
  for (const core of cores.splice(0).reverse()) await core.close();
});

async function linkFor(core: Core, actor: { id: string; name?: string }, line = 'dashboard'): Promise<string> {
  const answer = await core.run(actor, line);
  expect(answer.tone, plain(answer)).not.toBe('error');
  expect(answer.privately).toBe(true);
  return (answer.data as { link: string }).link;
}

/** Opens a link as a browser would: the cookie it sets, and the status. */
async function follow(link: string): Promise<{ status: number; cookie?: string; setCookie: string | null; location: string | null; body: string }> {
  const response = await fetch(link, { redirect: 'manual' });
  const setCookie = response.headers.get('set-cookie');
  const cookie = setCookie?.split(';')[0];
  return { status: response.status, ...(cookie ? { cookie } : {}), setCookie, location: response.headers.get('location'), body: await response.text() };
}

function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('fleet page: links and sessions', () => {
  it('is off without WEB_PORT, and `dashboard` says what to set where', async () => {
    const core = startCore({ yaml: YAML });
    cores.push(core);
    expect(core.app.web).toBeUndefined();
    const answer = await core.run(ADMIN, 'dashboard');
    expect(errorCode(answer)).toBe('usage');
    expect(plain(answer)).toMatch(/WEB_PORT/);
    expect(plain(answer)).toMatch(/\.env/);
  });

  it('answers privately with a one-time link that sets an HttpOnly SameSite=Strict cookie and redirects to a clean URL', async () => {
    const core = await open();
    await core.app.switchboard.execute({ text: 'dashboard', actor: ADMIN, origin: { adapter: 'slack', channel: 'CWORK' } });
    const row = core.db.prepare("SELECT private_to, reply FROM outbox WHERE reply LIKE '%?t=%'").get() as { private_to: string; reply: string };
    expect(row.private_to).toBe('slack:UADMIN');
    const link = /(http:\/\/\S+)/.exec(row.reply)![1]!.replace(/["\\].*$/, '');
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?t=[\w.-]+$/);

    const opened = await follow(link);
    expect(opened.status).toBe(303);
    expect(opened.location).toBe('/');
    expect(opened.setCookie).toMatch(/^sb_session=[\w.-]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    const page = await fetch(`${core.base}/`, { headers: { cookie: opened.cookie! } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'; script-src 'self'/);
    expect(page.headers.get('content-security-policy')).not.toMatch(/unsafe-inline/);
    const html = await page.text();
    expect(html).toContain('<script src="/static/app.js" defer></script>');
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/);
    expect(html).not.toMatch(/https?:\/\//);

    // Used once: a second opening is refused, and so is no token, an expired one and a forged one.
    expect((await follow(link)).status).toBe(401);
    expect((await follow(link)).body).toMatch(/already used/);
    expect((await fetch(`${core.base}/`)).status).toBe(401);
    expect((await fetch(`${core.base}/api/snapshot`)).status).toBe(401);
    const late = await linkFor(core, ADMIN);
    core.clock.advance(15 * 60_000 + 1);
    const expired = await follow(late);
    expect([expired.status, expired.body]).toEqual([401, expect.stringMatching(/expired/)]);
    const fresh = await linkFor(core, ADMIN);
    const [, token] = fresh.split('?t=');
    const [payload, signature] = token!.split('.');
    const tampered = `${Buffer.from(JSON.stringify({ n: 'x', e: core.clock.now() + 60_000 })).toString('base64url')}.${signature}`;
    expect((await follow(`${core.base}/?t=${tampered}`)).status).toBe(401);
    expect((await follow(`${core.base}/?t=${payload}.AAAA`)).status).toBe(401);
    expect((await follow(`${core.base}/?t=`)).status).toBe(401);
    // None of the refusals spent the good link.
    expect((await follow(fresh)).status).toBe(303);
  });

  it('refuses a cookie signed by another bot secret, and a link of another bot', async () => {
    const a = await open({ SWITCHBOARD_SECRET: 'first-secret-first-secret' });
    const b = await open({ SWITCHBOARD_SECRET: 'other-secret-other-secret' });
    const { cookie } = await follow(await linkFor(a, ADMIN));
    expect((await fetch(`${a.base}/api/snapshot`, { headers: { cookie: cookie! } })).status).toBe(200);
    const refused = await fetch(`${b.base}/api/snapshot`, { headers: { cookie: cookie! } });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/another bot secret/);
    const foreign = (await linkFor(a, ADMIN)).replace(a.base, b.base);
    expect((await follow(foreign)).status).toBe(401);
    // And a cookie made with the right format but a key of its own.
    const forged = createTokens(b.db, b.clock, Buffer.alloc(32, 7)).session(ADMIN).cookie;
    expect((await fetch(`${b.base}/api/snapshot`, { headers: { cookie: `sb_session=${forged}` } })).status).toBe(401);
  });

  it('keeps its key in a 0600 file beside the database without SWITCHBOARD_SECRET: links survive a restart', async () => {
    const first = await open();
    const link = await linkFor(first, ADMIN);
    const file = join(first.dir, 'data', 'web-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await first.app.web!.stop();
    cores.splice(cores.indexOf(first), 1);
    await first.close({ keep: true });
    const second = await open({}, first.dir);
    const opened = await follow(link.replace(/http:\/\/127\.0\.0\.1:\d+/, second.base));
    expect(opened.status).toBe(303);
  });

  it('marks the cookie Secure when WEB_URL is https, and links use WEB_URL', async () => {
    const core = await open({ WEB_URL: 'https://sb.example.com/' });
    const link = await linkFor(core, ADMIN);
    expect(link).toMatch(/^https:\/\/sb\.example\.com\/\?t=/);
    const opened = await follow(link.replace('https://sb.example.com', core.base));
    expect(opened.setCookie).toMatch(/; Secure$/);
  });
});

/** A live stream's events as they come: `next(event)` waits for the next one of that kind. */
async function events(base: string, cookie: string, signal: AbortSignal) {
  const response = await fetch(`${base}/api/events`, { headers: { cookie }, signal });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(kind: string, timeoutMs = 3_000): Promise<unknown> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const match = /^event: (\w+)\ndata: (.*)$/s.exec(event);
          if (match?.[1] === kind) return JSON.parse(match[2]!);
        }
        if (Date.now() > deadline) throw new Error(`no ${kind} event within ${timeoutMs} ms`);
        const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
        if (chunk?.value) buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
  };
}

describe('fleet page: live', () => {
  it('starts every stream with a full snapshot, and sends a card change only to those who may see the name', async () => {
    const core = await open();
    seedTask(core, { name: 'kumo', executor: 'local', actor: 'slack:UADMIN' });
    seedTask(core, { name: 'hetc', executor: 'local', actor: 'slack:UADMIN' });
    const admin = (await follow(await linkFor(core, ADMIN))).cookie!;
    const viewer = (await follow(await linkFor(core, VIEWER, 'dashboard kumo'))).cookie!;
    const controller = new AbortController();
    try {
      const adminStream = await events(core.base, admin, controller.signal);
      const viewerStream = await events(core.base, viewer, controller.signal);
      expect(((await adminStream.next('snapshot')) as { rows: { name: string }[] }).rows.map((r) => r.name)).toEqual(['hetc', 'kumo']);
      expect(((await viewerStream.next('snapshot')) as { rows: { name: string }[] }).rows.map((r) => r.name)).toEqual(['kumo']);
      const draw = (name: string, active: string) => {
        const state: CardState = {
          name,
          phase: 'working',
          startedAt: core.clock.now(),
          todos: [
            { content: 'one', status: 'completed' },
            { content: active, status: 'in_progress' },
          ],
        };
        core.app.cards.update({ key: `${name}#1`, origin: { adapter: 'slack', channel: 'CWORK' }, threadKey: name, reply: renderCard(state, core.clock.now()), state });
      };
      draw('hetc', 'secret work');
      draw('kumo', 'shared work');
      const first = (await adminStream.next('card')) as { row: { name: string; done: number; total: number; active: string } };
      expect(first.row).toMatchObject({ name: 'hetc', done: 1, total: 2, active: 'secret work', state: 'working' });
      expect(((await adminStream.next('card')) as { row: { name: string } }).row.name).toBe('kumo');
      // The viewer's next card event is kumo's: hetc's never came.
      const seen = (await viewerStream.next('card')) as { row: { name: string }; card: { text: string } };
      expect(seen.row.name).toBe('kumo');
      expect(seen.card.text).toContain('shared work');
    } finally {
      controller.abort();
    }
  });
});

describe('fleet page: scope and bad input', () => {
  it('shows a scoped viewer only their names; another name is 403', async () => {
    const core = await open();
    seedTask(core, { name: 'kumo', executor: 'local', actor: 'slack:UADMIN', logTail: 'kumo line' });
    seedTask(core, { name: 'hetc', executor: 'local', actor: 'slack:UADMIN', logTail: 'hetc line' });
    // No global role: plain `dashboard` is refused at the door; with one of their names it is not.
    expect(errorCode(await core.run(VIEWER, 'dashboard'))).toBe('forbidden');
    const { cookie } = await follow(await linkFor(core, VIEWER, 'dashboard kumo'));
    const headers = { cookie: cookie! };
    const snapshot = (await (await fetch(`${core.base}/api/snapshot`, { headers })).json()) as { rows: { name: string }[]; executors: unknown[] };
    expect(snapshot.rows.map((r) => r.name)).toEqual(['kumo']);
    expect((await fetch(`${core.base}/api/names/kumo`, { headers })).status).toBe(200);
    const other = await fetch(`${core.base}/api/names/hetc`, { headers });
    expect(other.status).toBe(403);
    expect((await fetch(`${core.base}/api/names/nosuch`, { headers })).status).toBe(403);
    expect((await fetch(`${core.base}/api/names/..%2Fetc`, { headers })).status).toBe(404);
    // The admin sees both.
    const admin = { cookie: (await follow(await linkFor(core, ADMIN))).cookie! };
    const all = (await (await fetch(`${core.base}/api/snapshot`, { headers: admin })).json()) as { rows: { name: string }[] };
    expect(all.rows.map((r) => r.name)).toEqual(['hetc', 'kumo']);
  });

  it('scrubs what it sends: a secret in a task log never reaches the browser', async () => {
    const secret = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    const core = await open({ DEPLOY_TOKEN: secret });
    seedTask(core, { name: 'kumo', executor: 'local', actor: 'slack:UADMIN', logTail: `token is ${secret}` });
    const { cookie } = await follow(await linkFor(core, ADMIN));
    const body = await (await fetch(`${core.base}/api/names/kumo`, { headers: { cookie: cookie! } })).text();
    expect(body).toContain('token is');
    expect(body).not.toContain(secret);
  });

  it('404s path traversal in static paths, 413s bodies and long URLs, 405s anything but GET', async () => {
    const core = await open();
    for (const path of ['/static/../../package.json', '/static/..%2F..%2Fpackage.json', '/static/%2e%2e/%2e%2e/package.json', '/static/app.js/', '/static/.', '/static/', '/../src/web/static/app.js', '/static/..\\..\\package.json']) {
      expect((await raw(core.base, 'GET', path)).status, path).toBe(404);
    }
    expect((await raw(core.base, 'GET', '/static/app.js')).status).toBe(200);
    expect((await raw(core.base, 'POST', '/api/snapshot', { 'content-type': 'application/json' }, '{"a":1}')).status).toBe(413);
    expect((await raw(core.base, 'GET', `/?t=${'a'.repeat(5_000)}`)).status).toBe(413);
    expect((await raw(core.base, 'DELETE', '/api/names/kumo')).status).toBe(405);
  });

  it('429s past the live-connection limits, in all and per person', async () => {
    const core = await open({ WEB_MAX_CLIENTS: '2', WEB_MAX_CLIENTS_PER_USER: '1' });
    const ada = (await follow(await linkFor(core, ADMIN))).cookie!;
    const bob = (await follow(await linkFor(core, { id: 'slack:UADMIN', name: 'ada again' }))).cookie!;
    const con = (await follow(await linkFor(core, { id: 'console:root' }))).cookie!;
    const controllers: AbortController[] = [];
    const stream = async (cookie: string) => {
      const controller = new AbortController();
      controllers.push(controller);
      return fetch(`${core.base}/api/events`, { headers: { cookie }, signal: controller.signal });
    };
    try {
      const first = await stream(ada);
      expect(first.status).toBe(200);
      const reader = first.body!.getReader();
      const chunk = new TextDecoder().decode((await reader.read()).value);
      expect(chunk).toMatch(/retry: 1000/);
      expect((await stream(bob)).status).toBe(429);
      expect((await stream(con)).status).toBe(200);
      const third = await stream((await follow(await linkFor(core, { id: 'console:other' }))).cookie!);
      expect(third.status).toBe(429);
      expect(await third.text()).toMatch(/too many live connections/);
    } finally {
      for (const controller of controllers) controller.abort();
    }
  });
});
