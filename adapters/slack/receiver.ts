import { HTTPReceiver, SocketModeReceiver, type Logger as BoltLogger, type Receiver, type webApi } from '@slack/bolt';
import type { SlackSettings } from './settings.js';

/**
 * Bolt hands listeners the envelope's payload only; the envelope id comes along as `context.envelopeId`, so a
 * redelivered envelope can be recognised as one. Pass this to any SocketModeReceiver (tests build their own).
 */
export function envelopeIdOf(args: { envelope_id?: unknown }): { envelopeId?: string } {
  return typeof args.envelope_id === 'string' ? { envelopeId: args.envelope_id } : {};
}

/**
 * How Slack reaches us. Socket Mode dials out over a WebSocket (no public URL needed); the HTTP receiver
 * takes signed POSTs at `/slack/events` and checks every signature and timestamp (Bolt's verification stays
 * on). Either way the app is the same, which is why tests can swap in their own receiver.
 */
export function receiverFor(settings: SlackSettings, logger: BoltLogger, clientOptions: webApi.WebClientOptions): Receiver {
  if (settings.mode === 'socket') {
    // apps.connections.open is a Web API call, so the Socket Mode client needs the same base URL.
    return new SocketModeReceiver({
      appToken: settings.appToken!,
      logger,
      installerOptions: { clientOptions },
      customPropertiesExtractor: (args) => envelopeIdOf(args as { envelope_id?: unknown }),
    });
  }
  return new HTTPReceiver({ signingSecret: settings.signingSecret!, port: settings.port, logger, signatureVerification: true });
}
