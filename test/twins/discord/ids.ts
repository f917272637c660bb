/**
 * Snowflakes for everything the twin creates (messages, interactions, threads, commands).
 * discord.js reads timestamps out of ids (`Message.createdTimestamp`) and sorts by `BigInt(id)`, so ids must be
 * real snowflakes, not counters. The timestamp comes from the injected clock, the low bits from a counter, so two
 * runs with the same clock produce the same ids.
 */
export interface TwinClock {
  now(): number;
}

const DISCORD_EPOCH = 1_420_070_400_000n;

export type SnowflakeFactory = () => string;

export function createSnowflakeFactory(clock: TwinClock): SnowflakeFactory {
  let increment = 0n;
  return () => {
    const ms = BigInt(Math.max(clock.now(), Number(DISCORD_EPOCH)));
    increment = (increment + 1n) & 0x3fffn;
    // 5 bits worker, 5 bits process: fixed at 1/1 so a twin id is recognisable in a debugger.
    return (((ms - DISCORD_EPOCH) << 22n) | (1n << 17n) | (1n << 12n) | increment).toString();
  };
}

/** A valid snowflake for fixtures: `testSnowflake(1)` is stable across runs and sorts by `n`. */
export function testSnowflake(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 22) throw new RangeError(`testSnowflake(${n}): n must be an integer in [0, 2^22)`);
  // A fixed instant in 2024 keeps the id 19 digits long, like ids people see in the Discord client.
  const at = 1_704_067_200_000n - DISCORD_EPOCH;
  return ((at << 22n) | BigInt(n)).toString();
}

export const SNOWFLAKE_PATTERN = /^\d{17,20}$/;

/**
 * Interaction tokens and session ids only need to be distinct within one twin; a counter keeps them reproducible,
 * so a failing test prints the same token on every run.
 */
export function createTokenFactory(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}_${(++n).toString().padStart(4, '0')}`;
}
