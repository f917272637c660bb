import type { ServerResponse } from 'node:http';
import type { World } from '../world.js';
import { writeResult } from './server.js';

/**
 * Serves uploaded bytes at the URLs message attachments carry (`/attachments/:channel/:id/:name`), so a bot that
 * downloads what users attach (or re-reads its own uploads) works against the twin as against Discord's CDN.
 */
export function serveAttachment(world: World, url: URL, response: ServerResponse): void {
  const [, , channelId, attachmentId] = url.pathname.split('/');
  const file = world.files.find((f) => f.channelId === channelId && f.attachmentId === attachmentId);
  if (!file) {
    writeResult(response, { status: 404, body: { message: '404: Not Found', code: 0 } });
    return;
  }
  response.writeHead(200, { 'Content-Type': file.contentType ?? 'application/octet-stream', 'Content-Length': String(file.size) });
  response.end(file.bytes);
}
