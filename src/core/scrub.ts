import type { Block, Reply } from './reply.js';

const REDACTED = '[redacted]';

/** Token shapes worth hiding wherever they appear. Each is specific enough not to eat ordinary prose. */
const PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  /\bsk-ant-[A-Za-z0-9_-]{16,}/g,
  /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{22,}/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\bxapp-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  /\b[MNO][A-Za-z\d_-]{23,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,40}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  /\bhf_[A-Za-z0-9]{30,}\b/g,
  /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/g,
];

const SECRET_KEY = String.raw`[\w.-]*(?:password|passwd|secret|api[_-]?key|access[_-]?key|private[_-]?key|token)`;

/**
 * Secrets written as assignments. The key stays so the reader knows what was hidden; the value goes.
 * Quoted values (JSON, YAML, code) go whole, spaces included. Bare values after a token-ish key must look
 * like a token (8+ token characters with a digit), so `const token = getToken();` survives.
 */
const QUOTED_ASSIGNMENT = new RegExp(
  String.raw`(\b(?:${SECRET_KEY}|(?:proxy-)?authorization)["']?\s*[:=]\s*)(["'\x60])((?:(?!\2)[^\n]){1,400})\2`,
  'gi',
);
const AUTHORIZATION_HEADER = /(\b(?:proxy-)?authorization\s*[:=]\s*)(?:(?:bearer|basic|token|bot|digest)\s+)?[^\s"',;]+/gi;
const BARE_PASSWORD = /(\b[\w.-]*(?:password|passwd|secret)\s*[:=]\s*)([^\s"'`,;&]{4,})/gi;
const BARE_TOKEN = /(\b[\w.-]*(?:api[_-]?key|access[_-]?key|private[_-]?key|token)\s*[:=]\s*)((?=[A-Za-z0-9_\-+/=.~]*\d)[A-Za-z0-9_\-+/=.~]{8,})/gi;
const FLAG_SECRET = /(--?(?:password|passwd|token|secret|api-key)(?:\s+|=))([^\s-][^\s]{3,})/gi;
const WEBHOOK_URLS = /\bhttps:\/\/(?:hooks\.slack\.com\/services|(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks)\/[^\s"'<>]+/gi;

/** `scheme://user:password@`, the user possibly empty (`http://:password@host`): the password goes, the user stays. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s/]+)@/gi;

export type Scrubber = (value: string) => string;

/**
 * One scrubber for everything that leaves the process: chat messages and log lines. It hides the common
 * token shapes and, exactly, every configured secret (server passwords, bot tokens, webhook secrets).
 */
export function createScrubber(knownSecrets: Iterable<string | undefined>): Scrubber {
  const secrets = [...new Set([...knownSecrets].filter((s): s is string => typeof s === 'string' && s.length >= 6))].sort(
    (a, b) => b.length - a.length,
  );
  return (value: string) => {
    let result = value;
    for (const secret of secrets) {
      if (result.includes(secret)) result = result.split(secret).join(REDACTED);
    }
    for (const pattern of PATTERNS) result = result.replace(pattern, REDACTED);
    result = result.replace(WEBHOOK_URLS, REDACTED);
    result = result.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
    result = result.replace(QUOTED_ASSIGNMENT, (_m, key: string, quote: string) => `${key}${quote}${REDACTED}${quote}`);
    result = result.replace(AUTHORIZATION_HEADER, (_m, key: string) => `${key}${REDACTED}`);
    result = result.replace(BARE_PASSWORD, (_m, key: string) => `${key}${REDACTED}`);
    result = result.replace(BARE_TOKEN, (_m, key: string) => `${key}${REDACTED}`);
    result = result.replace(FLAG_SECRET, (_m, flag: string) => `${flag}${REDACTED}`);
    return result;
  };
}

/** Environment variables whose values are secrets by their name. */
export function secretsFromEnvironment(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([key, value]) => value && /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|SIGNING)/i.test(key))
    .map(([, value]) => value!);
}

export function scrubReply(reply: Reply, scrub: Scrubber): Reply {
  const blocks = reply.blocks.map((block): Block => {
    switch (block.type) {
      case 'text':
        return { ...block, text: scrub(block.text) };
      case 'verbatim':
      case 'output':
        return { ...block, text: scrub(block.text), ...(block.title !== undefined ? { title: scrub(block.title) } : {}) };
      case 'choices':
        return {
          ...block,
          prompt: scrub(block.prompt),
          options: block.options.map((o) => ({ ...o, label: scrub(o.label), ...(o.description ? { description: scrub(o.description) } : {}) })),
        };
    }
  });
  return { ...reply, blocks, ...(reply.data !== undefined ? { data: scrubData(reply.data, scrub) } : {}) };
}

/**
 * Every string in a JSON value, scrubbed: through a JSON round trip, so what is scrubbed is exactly what would be
 * stored (`toJSON`, dates and dropped `undefined`s included).
 */
export function scrubData(value: unknown, scrub: Scrubber): unknown {
  const json = JSON.stringify(value);
  if (json === undefined) return undefined;
  return JSON.parse(json, (_key, item: unknown) => (typeof item === 'string' ? scrub(item) : item)) as unknown;
}
