import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Node, type Pair } from 'yaml';
import { SwitchboardError } from '../errors.js';

export function configError(file: string, key: string, problem: string, cause?: unknown): SwitchboardError {
  return new SwitchboardError('config_invalid', `${file}: ${key ? `${key}: ` : ''}${problem}`, { cause });
}

/** `servers[0].url`: the same spelling for a key whether YAML or the schema found the problem. */
export function keyOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '');
}

/**
 * The tags a config may spell out. YAML also knows `!!binary`, `!!set`, `!!omap`, `!!pairs` and `!!timestamp`
 * (and a `%YAML 1.1` file reads `2001-12-14` as a date); the `yaml` library turns those into a Buffer, a Set, a
 * Map or a Date, which the schema would then judge by their methods and fields (a `!!binary` root listed ~60
 * Buffer methods as unknown keys; a date passed for a whole section). A config is plain data, so anything else
 * is refused where it is written.
 */
const PLAIN_TAGS = new Set(['map', 'seq', 'str', 'int', 'float', 'bool', 'null'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * More alias expansions than this is a "billion laughs" file, not a config. The `yaml` library's own limit
 * (also 100, by the same measure) throws a bare ReferenceError; it is named here so the bound is ours.
 */
const MAX_ALIAS_COUNT = 100;

type Plain = string | number | boolean | null;

function isPlainValue(value: unknown): value is Plain {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** What a refused node is, in words: "a set tagged `!!set`", "a date", "a list". */
function describe(node: Node): string {
  const tag = node.tag?.replace('tag:yaml.org,2002:', '!!');
  const value = isScalar(node) ? node.value : undefined;
  const what =
    value instanceof Date ? 'a date'
    : value instanceof Uint8Array ? 'binary data'
    : tag === '!!set' ? 'a set'
    : tag === '!!omap' || tag === '!!pairs' ? 'an ordered list of pairs'
    : isMap(node) ? 'a mapping'
    : isSeq(node) ? 'a list'
    : typeof value === 'string' ? 'text'
    : typeof value === 'number' ? 'a number'
    : typeof value === 'boolean' ? 'true/false'
    : 'a value';
  return tag ? `${what} tagged \`${tag}\`` : what;
}

/** The key path of `node` from the document down through `ancestors`, as `keyOf` spells it. */
function keyPath(ancestors: readonly unknown[], node: unknown): string {
  const parts: Array<string | number> = [];
  const chain = [...ancestors, node];
  chain.forEach((step, i) => {
    const next = chain[i + 1];
    if (isPair(step) && next === step.value) parts.push(isScalar(step.key) ? String(step.key.value) : '?');
    else if (isSeq(step) && next !== undefined) parts.push(step.items.indexOf(next as never));
  });
  return keyOf(parts);
}

/**
 * Parses the text of a config file into plain data: mappings, lists, strings, numbers, booleans and nulls.
 * Any YAML problem, a tag outside those, a key that is not a scalar, or an alias bomb becomes one
 * `config_invalid` error naming the file and where.
 */
export function parseConfigYaml(file: string, text: string): unknown {
  const lines = new LineCounter();
  const document = parseDocument(text, { prettyErrors: true, lineCounter: lines });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0];
    throw configError(file, line ? `line ${line.line}, column ${line.col}` : '', `invalid YAML: ${yamlError.message.split('\n')[0]}`);
  }
  const where = (node: Node | Pair, ancestors: readonly unknown[]): string => {
    const key = keyPath(ancestors, node);
    // A value is located by its key: a tag and a block collection start on different lines, the key is where
    // the reader looks.
    const parent = ancestors[ancestors.length - 1];
    const owner = isPair(node) ? node : isPair(parent) && parent.value === node ? parent : undefined;
    const start = owner ? (owner.key as Node | null)?.range?.[0] : (node as Node).range?.[0];
    const at = start === undefined ? undefined : lines.linePos(start);
    return [key, at && `line ${at.line}, column ${at.col}`].filter(Boolean).join(', ');
  };

  const root = document.contents;
  // An empty file (or a bare `~`) means "all defaults".
  if (root === null || (isScalar(root) && root.value === null && plainTag(root))) return {};
  if (!isMap(root) || !plainTag(root)) throw configError(file, '', `the top level must be a mapping of keys, not ${describe(root)}`);
  visit(document, {
    Pair(_, pair, ancestors) {
      if (pair.key !== null && !isScalar(pair.key)) throw configError(file, where(pair, ancestors), `a key must be a plain word, not ${describe(pair.key as Node)}`);
      // Under a free-form mapping (access.names) it would replace the object's prototype, and the rules in it vanish.
      if (isScalar(pair.key) && pair.key.value === '__proto__') throw configError(file, where(pair, ancestors), 'a key cannot be named `__proto__`');
    },
    Node(_, node, ancestors) {
      if (isAlias(node)) return;
      const plain = plainTag(node) && (!isScalar(node) || isPlainValue(node.value));
      if (!plain) throw configError(file, where(node, ancestors), `${describe(node)} is not allowed: a config holds only mappings, lists, text, numbers, true/false and null`);
    },
  });

  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      throw configError(file, '', `invalid YAML: aliases (\`*name\`) expand to more than ${MAX_ALIAS_COUNT} nodes; write the values out instead`, error);
    }
    throw configError(file, '', `invalid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, error);
  }
}

function plainTag(node: Node): boolean {
  return node.tag === undefined || PLAIN_TAGS.has(node.tag);
}
