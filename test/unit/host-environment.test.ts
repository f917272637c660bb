import { describe, expect, it } from 'vitest';
import { hostEnvironment } from '../../src/executors/transport/host-environment.js';

describe('what a process the bot starts inherits', () => {
  it('keeps the login basics and the container engine’s own settings, and drops every token', () => {
    const kept = hostEnvironment({
      PATH: '/usr/bin',
      HOME: '/home/sb',
      LC_ALL: 'C.UTF-8',
      CONTAINERS_CONF: '/etc/sb/containers.conf',
      CONTAINERS_STORAGE_CONF: '/etc/sb/storage.conf',
      DOCKER_HOST: 'unix:///run/user/1000/docker.sock',
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      DISCORD_TOKEN: 'abc',
      SWITCHBOARD_SECRET: 'k',
      ANTHROPIC_API_KEY: 'sk-ant-x',
      UNSET: undefined,
    });
    expect(kept).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/sb',
      LC_ALL: 'C.UTF-8',
      CONTAINERS_CONF: '/etc/sb/containers.conf',
      CONTAINERS_STORAGE_CONF: '/etc/sb/storage.conf',
      DOCKER_HOST: 'unix:///run/user/1000/docker.sock',
    });
  });
});
