import type { AddressInfo } from 'node:net';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Actor } from '../core/origin.js';
import { scrubData, type Scrubber } from '../core/scrub.js';
import type { Fleet } from '../executors/index.js';
import type { Access } from '../sessions/access.js';
import type { Db } from '../sessions/database.js';
import type { Registry } from '../sessions/registry.js';
import { createCardFeed, type CardFeed } from './card-feed.js';
import { createFleetProbe, type ServerView } from './fleet-probe.js';
import { createHistory } from './history.js';
import { createWebHttp } from './http.js';
import { createLive } from './live.js';
import { createReadModel, type RowExtras } from './read-model.js';
import type { WebSettings } from './settings.js';
import { loadStaticFiles } from './static-files.js';
import { createTokens } from './tokens.js';

export { webMigrations } from './migrations.js';
export { webSettingsFrom, type WebSettings } from './settings.js';
export { webKey } from './secret.js';
export { serverProbe } from './servers.js';
export type { ServerView } from './fleet-probe.js';

export interface WebPageDeps extends RowExtras {
  settings: WebSettings;
  /** Signs links and session cookies (see webKey). */
  key: Buffer;
  db: Db;
  clock: Clock;
  logger: Logger;
  scrub: Scrubber;
  registry: Pick<Registry, 'list' | 'get'>;
  access: Pick<Access, 'roleOf'>;
  fleet: Pick<Fleet, 'list' | 'get' | 'logs'>;
  /** The OpenCode servers and their health (probed at most every 15 s, only while someone looks). */
  servers(): Promise<ServerView[]>;
  /** How often open pages get a fresh snapshot (new names, fleet health); default 30 s. */
  resyncMs?: number;
  /** How long after a run ends open pages get a fresh snapshot (today's totals, charts); default 500 ms. */
  settleMs?: number;
}

export interface WebPage {
  /** The card sink's listener: every card state drawn, as it is drawn. */
  feed: Pick<CardFeed, 'onUpdate'>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A private one-time link for `actor` (the page must be started). */
  link(actor: Actor): string;
  /** Where the page listens (after start). */
  address(): AddressInfo | undefined;
  /** Live connections now (the bench). */
  clients(): number;
}

/** The fleet page: a read-only, live view of the fleet served by the bot itself (issue 19). */
export function createWebPage(deps: WebPageDeps): WebPage {
  const { settings, clock } = deps;
  const clean = (value: unknown) => scrubData(value, deps.scrub);
  const tokens = createTokens(deps.db, clock, deps.key);
  const feed = createCardFeed(deps.db, clock);
  const probe = createFleetProbe({ clock, servers: deps.servers, executors: () => deps.fleet.list() });
  const model = createReadModel({
    clock,
    registry: deps.registry,
    access: deps.access,
    feed,
    probe,
    history: createHistory(deps.db),
    tasks: deps.fleet,
    ...(deps.nextScheduleOf ? { nextScheduleOf: deps.nextScheduleOf } : {}),
    ...(deps.budgetOf ? { budgetOf: deps.budgetOf } : {}),
  });
  const live = createLive({
    maxClients: settings.maxClients,
    maxClientsPerUser: settings.maxClientsPerUser,
    clean,
  });
  // A run that ended moves today's totals and the charts: every page gets a fresh snapshot soon after (once for a burst).
  let soon: NodeJS.Timeout | undefined;
  feed.subscribe((card) => {
    const record = deps.registry.get(card.name);
    if (record) live.cardChanged(card, model.rowOf(record, card), (actor) => model.sees(actor, record));
    if (!card.final || soon) return;
    soon = setTimeout(() => {
      soon = undefined;
      void live.resync(renderSnapshots).catch(() => undefined);
    }, deps.settleMs ?? 500);
    soon.unref();
  });
  const http = createWebHttp({
    logger: deps.logger,
    tokens,
    model,
    live,
    files: loadStaticFiles(),
    clean,
    secureCookie: settings.publicUrl?.startsWith('https:') ?? false,
  });
  /** Every open page's snapshot, rendered (and scrubbed) once per group of people who see the same thing. */
  async function renderSnapshots(actors: readonly Actor[]): Promise<string[]> {
    const executors = (await probe.look()).executors.map((e) => e.name);
    const shared = new Map<string, Promise<string>>();
    return Promise.all(
      actors.map(async (actor) => {
        const key = model.viewKey(actor, executors);
        let body = shared.get(key);
        if (!body) {
          body = model.snapshot(actor).then(({ actor: _named, ...rest }) => JSON.stringify(clean(rest)));
          shared.set(key, body);
        }
        return `{"actor":${JSON.stringify(clean(model.whoami(actor)))},${(await body).slice(1)}`;
      }),
    );
  }
  let address: AddressInfo | undefined;
  let resync: NodeJS.Timeout | undefined;

  return {
    feed,
    async start() {
      address = await http.listen(settings.port, settings.host);
      resync = setInterval(() => {
        if (live.count() > 0) void live.resync(renderSnapshots).catch(() => undefined);
      }, deps.resyncMs ?? 30_000);
      resync.unref();
      deps.logger.info('fleet page listening', { url: baseUrl() });
    },
    async stop() {
      if (resync) clearInterval(resync);
      if (soon) clearTimeout(soon);
      live.close();
      await http.close();
      await probe.settled();
    },
    link(actor) {
      return `${baseUrl()}/?t=${tokens.mint(actor)}`;
    },
    address: () => address,
    clients: () => live.count(),
  };

  function baseUrl(): string {
    if (settings.publicUrl) return settings.publicUrl;
    const host = address?.address ?? settings.host;
    const shown = host.includes(':') ? `[${host}]` : host;
    return `http://${shown}:${address?.port ?? settings.port}`;
  }
}
