import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent } from 'discord.js';
import type { Block } from '../../../src/core/reply.js';
import type { RenderLimits } from './limits.js';

export type ButtonRow = APIActionRowComponent<APIButtonComponent>;

/** Buttons carry `sb:<choiceId>:<index>`; a press hands exactly these two back to the core. */
const CUSTOM_ID = /^sb:([A-Za-z0-9_-]+):(\d{1,3})$/;

export function choiceCustomId(choiceId: string, index: number): string {
  return `sb:${choiceId}:${index}`;
}

export function parseChoiceCustomId(customId: string): { choiceId: string; index: number } | undefined {
  const match = CUSTOM_ID.exec(customId);
  return match ? { choiceId: match[1]!, index: Number(match[2]) } : undefined;
}

const STYLE = { primary: ButtonStyle.Primary, danger: ButtonStyle.Danger } as const;

/**
 * One button per option, five to a row, as many rows as a message allows. Options beyond that stay
 * answerable by number (the prompt lists them); a choice id too long for a custom_id gets no buttons at all.
 */
export function choiceRows(block: Extract<Block, { type: 'choices' }>, limits: RenderLimits): ButtonRow[] {
  if (choiceCustomId(block.choiceId, block.options.length).length > limits.customIdChars) return [];
  const buttons: APIButtonComponent[] = block.options.slice(0, limits.rowsPerMessage * limits.buttonsPerRow).map((option, index) => ({
    type: ComponentType.Button,
    custom_id: choiceCustomId(block.choiceId, index),
    label: buttonLabel(option.label || String(index + 1), limits.buttonLabelChars),
    style: option.style ? STYLE[option.style] : ButtonStyle.Secondary,
  }));
  const rows: ButtonRow[] = [];
  for (let i = 0; i < buttons.length; i += limits.buttonsPerRow) {
    rows.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + limits.buttonsPerRow) });
  }
  return rows;
}

/** Whether the prompt should list the options in words: descriptions exist, or some options got no button. */
export function listsOptions(block: Extract<Block, { type: 'choices' }>, limits: RenderLimits): boolean {
  return block.options.some((o) => o.description) || block.options.length > limits.rowsPerMessage * limits.buttonsPerRow;
}

function buttonLabel(label: string, max: number): string {
  const flat = label.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
