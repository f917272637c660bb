import type { Logger } from '../core/logger.js';
import type { HostEvent } from './types.js';

/** Adds an event to the caller's list and tells the listener; a listener that throws is logged, never fatal. */
export type Emit = (events: HostEvent[], event: HostEvent) => void;

export function createEmitter(onEvent: ((event: HostEvent) => void) | undefined, logger: Logger): Emit {
  return (events, event) => {
    events.push(event);
    try {
      onEvent?.(event);
    } catch (error) {
      logger.error('opencode host event listener failed', { error: String(error) });
    }
  };
}
