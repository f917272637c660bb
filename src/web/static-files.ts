import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export type StaticFiles = ReadonlyMap<string, { type: string; body: Buffer }>;

/** The page's files, read once from the package's `static/` folder: only these names are ever served. */
export function loadStaticFiles(dir = join(import.meta.dirname, 'static')): StaticFiles {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return files;
}

/** A file by the name in the URL: an exact name of the list, so `..`, `/` and encodings of them find nothing. */
export function staticFile(files: StaticFiles, requested: string) {
  return files.get(requested);
}
