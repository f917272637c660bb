import { SwitchboardError } from '../errors.js';

/** Reading settings from the environment: one spelling of yes and no for every variable, one kind of error. */
export function invalidSetting(message: string): SwitchboardError {
  return new SwitchboardError('config_invalid', message);
}

export function booleanSetting(env: Readonly<Record<string, string | undefined>>, key: string, fallback: boolean): boolean {
  const value = env[key]?.trim().toLowerCase();
  if (value === undefined || value === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw invalidSetting(`${key} must be true or false, not \`${env[key]}\``);
}
