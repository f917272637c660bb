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
];

/** `key: value` / `key=value` pairs whose value is a secret: the key stays, the value goes. */
const ASSIGNMENTS =
  /(\b(?:authorization|proxy-authorization)\s*[:=]\s*)(?:(?:bearer|basic|token|bot)\s+)?[^\s"',;]+|(\b[\w.-]*(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|private[_-]?key|token|client[_-]?secret)["']?\s*[:=]\s*["']?)([^\s"',;&]{4,})/gi;

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]+):([^\s/@]+)@/gi;

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
    result = result.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
    result = result.replace(ASSIGNMENTS, (match, header: string | undefined, key: string | undefined) => {
      if (header !== undefined) return `${header}${REDACTED}`;
      return `${key}${REDACTED}`;
    });
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
      case 'verbatim':
      case 'output':
        return { ...block, text: scrub(block.text) };
      case 'choices':
        return {
          ...block,
          prompt: scrub(block.prompt),
          options: block.options.map((o) => ({ ...o, label: scrub(o.label), ...(o.description ? { description: scrub(o.description) } : {}) })),
        };
    }
  });
  return { ...reply, blocks };
}
