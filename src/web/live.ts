import type { ServerResponse } from 'node:http';
import type { Actor } from '../core/origin.js';
import type { LiveCard } from './card-feed.js';
import type { NameRow } from './read-model.js';

export interface LiveDeps {
  maxClients: number;
  maxClientsPerUser: number;
  /** Makes a value safe to send (the app's scrubber over every string). */
  clean(value: unknown): unknown;
  /** A comment line this often keeps proxies from closing an idle stream (default 25 s). */
  keepAliveMs?: number;
}

interface Client {
  actor: Actor;
  res: ServerResponse;
}

/**
 * The page's live connections (Server-Sent Events): at most `maxClients` in all and `maxClientsPerUser` per
 * person. Each card change goes, as the name's new row and card text, to every client allowed to see the name.
 * A client that (re)connects is sent the whole snapshot first, so a lost connection resyncs.
 */
export function createLive(deps: LiveDeps) {
  const clients = new Set<Client>();
  const keepAlive = setInterval(() => {
    for (const client of clients) client.res.write(': keep-alive\n\n');
  }, deps.keepAliveMs ?? 25_000);
  keepAlive.unref();

  function refusal(actor: Actor): 'full' | 'yours' | undefined {
    if (clients.size >= deps.maxClients) return 'full';
    let mine = 0;
    for (const client of clients) if (client.actor.id === actor.id) mine++;
    return mine >= deps.maxClientsPerUser ? 'yours' : undefined;
  }

  function send(res: ServerResponse, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(deps.clean(data))}\n\n`);
  }

  return {
    /** Why `actor` may not open one more stream now ('full': the limit in all, 'yours': theirs), if so. */
    refusal,
    /** 'full' or 'yours' when a limit is reached (the caller answers 429), else the client is added. */
    open(actor: Actor, res: ServerResponse, snapshot: unknown): 'ok' | 'full' | 'yours' {
      const refused = refusal(actor);
      if (refused) return refused;
      const client: Client = { actor, res };
      clients.add(client);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 1000\n\n');
      send(res, 'snapshot', snapshot);
      res.on('close', () => clients.delete(client));
      return 'ok';
    },
    /** A card changed: its name's row and card text, rendered once, to every client who may see the name. */
    cardChanged(card: LiveCard, row: NameRow, sees: (actor: Actor) => boolean): void {
      let event: string | undefined;
      for (const client of clients) {
        if (!sees(client.actor)) continue;
        event ??= `event: card\ndata: ${JSON.stringify(deps.clean({ row, card: { text: card.text, todos: card.todos, phase: card.phase } }))}\n\n`;
        client.res.write(event);
      }
    },
    /**
     * Sends each client its own fresh snapshot (names added or forgotten, fleet health). `render` gets every
     * client's actor at once and returns each one's snapshot as JSON already cleaned, so people who see the same
     * thing share one rendering.
     */
    async resync(render: (actors: readonly Actor[]) => Promise<string[]>): Promise<void> {
      const now = [...clients];
      const bodies = await render(now.map((client) => client.actor));
      now.forEach((client, i) => {
        if (clients.has(client)) client.res.write(`event: snapshot\ndata: ${bodies[i]}\n\n`);
      });
    },
    count: () => clients.size,
    close(): void {
      clearInterval(keepAlive);
      for (const client of clients) client.res.end();
      clients.clear();
    },
  };
}

export type Live = ReturnType<typeof createLive>;
