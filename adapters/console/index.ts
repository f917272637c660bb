import { createInterface } from 'node:readline';
import { DeliveryError, replyToShow, type Adapter, type DeliveryResult, type OutgoingMessage } from '../../src/core/adapter.js';
import type { Inbound } from '../../src/core/switchboard.js';
import { replyToPlainText, type Reply } from '../../src/core/reply.js';
import { createStatusLine } from './status-line.js';

/** What the console needs from the core. */
export interface ConsoleCore {
  execute(inbound: Inbound): Promise<Reply>;
  idle(adapter: string): Promise<void>;
}

export interface ConsoleOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** The local user: the actor is `console:<user>`. */
  user: string;
  /** A terminal gets an `sb>` prompt; a pipe is read one command per line, silently. */
  interactive: boolean;
  banner?: string;
}

const CHANNEL = 'terminal';

/**
 * The embedded default adapter: the same grammar at an `sb>` prompt, or one command per line from a pipe.
 * The terminal is the channel, so progress and final outputs print here as they happen, between commands.
 */
export function createConsoleAdapter(core: ConsoleCore, options: ConsoleOptions): Adapter {
  const { output, interactive } = options;
  const actor = { id: `console:${options.user}`, name: options.user };
  const origin = { adapter: 'console', channel: CHANNEL };
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  let rl: ReturnType<typeof createInterface> | undefined;
  let stopped = false;
  const status = createStatusLine(interactive);

  /**
   * Resolves once the stream has handed every byte on (a pipe reader slower than the bot, a 1 MB final): the
   * outbox counts a message sent only then, so a crash mid-write leaves it due, to be written again whole.
   */
  function write(textToPrint: string): Promise<void> {
    // Above the prompt line, on a terminal: clear it, print, then redraw the prompt with whatever the user had typed.
    const prompting = interactive ? rl : undefined;
    return new Promise((resolve, reject) => {
      output.write(`${prompting ? status.clear() : ''}${textToPrint}\n${prompting ? status.redraw() : ''}`, (error?: Error | null) =>
        error ? reject(new DeliveryError(`console: cannot write: ${error.message}`, { cause: error })) : resolve(),
      );
      prompting?.prompt(true);
    });
  }

  async function readLoop(): Promise<void> {
    rl = createInterface({ input: options.input, ...(interactive ? { output, prompt: 'sb> ' } : {}), terminal: interactive });
    if (options.banner) output.write(`${options.banner}\n`);
    if (interactive) rl.prompt();
    for await (const raw of rl) {
      if (stopped) break;
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '' || line.trimStart().startsWith('#')) {
        if (interactive) rl.prompt();
        continue;
      }
      if (interactive && /^(quit|exit)$/i.test(line.trim())) break;
      await core.execute({ text: line, actor, origin });
      // Scripts see each reply before the next command runs.
      await core.idle('console');
      if (interactive) rl.prompt();
    }
    rl.close();
    resolveFinished();
  }

  return {
    name: 'console',
    finished,
    async start() {
      void readLoop().catch((error: unknown) => {
        output.write(`console: ${error instanceof Error ? error.message : String(error)}\n`);
        resolveFinished();
      });
    },
    async stop() {
      stopped = true;
      rl?.close();
    },
    async deliver(message: OutgoingMessage): Promise<DeliveryResult> {
      status.posted(String(message.id), message.reply);
      await write(replyToPlainText(replyToShow(message)));
      return { messageId: String(message.id) };
    },
    // No platform limit here: the card layer's per-card interval is all the spacing a terminal needs.
    editBudget: { edits: 100, perMs: 1_000, scope: 'channel' },
    async edit(message: OutgoingMessage, messageId: string): Promise<DeliveryResult> {
      const prompting = interactive ? rl : undefined;
      const text = status.update(messageId, message.reply, message.final === true);
      if (prompting) {
        // The status line is redrawn in place above the prompt, which keeps whatever the user was typing.
        output.write(`${status.clear()}${text}${status.redraw()}`);
        prompting.prompt(true);
      } else if (text) output.write(text);
      return { messageId };
    },
  };
}
