import { describe, expect, test } from 'vitest';
import { describeRunFailure, parseInspectLine } from '../../src/executors/runtime/container-state.js';

// What `inspect --format '{{.Name}} {{json .State}}'` prints, trimmed to the fields that matter, as docker 26 and
// podman 4.3 print them.
const dockerState = (state: object) => `/sb-t1 ${JSON.stringify({ Status: 'exited', Running: false, Paused: false, OOMKilled: false, Dead: false, Pid: 0, Error: '', ...state })}`;
const podmanState = (state: object) => `sb-t1 ${JSON.stringify({ OciVersion: '1.0.2-dev', Status: 'exited', Running: false, OOMKilled: false, Dead: false, Pid: 0, Error: '', ...state })}`;

describe('reading docker and podman inspect the same way', () => {
  test('the name with or without the leading slash; running is running', () => {
    expect(parseInspectLine(dockerState({ Status: 'running', Running: true, ExitCode: 0 }))).toEqual({ name: 'sb-t1', info: { running: true, status: 'running', exitCode: 0 } });
    expect(parseInspectLine(podmanState({ Status: 'running', Running: true, ExitCode: 0 }))).toEqual({ name: 'sb-t1', info: { running: true, status: 'running', exitCode: 0 } });
  });

  test.each([
    [125, 'exited: the engine could not create or start it'],
    [126, 'exited: its command could not be run (permission denied: can the image user read the task directory?)'],
    [127, 'exited: its command was not found (no bash in the image, or the task directory is not mounted)'],
    [137, 'exited: killed with SIGKILL (kill -9, a stop past its grace period, or out of memory)'],
    [143, 'exited: stopped with SIGTERM'],
    [3, 'exited'],
  ])('exit %i reads the same on both engines: %s', (code, status) => {
    for (const line of [dockerState({ ExitCode: code }), podmanState({ ExitCode: code })]) {
      expect(parseInspectLine(line)).toEqual({ name: 'sb-t1', info: { running: false, status, exitCode: code } });
    }
  });

  test("states one engine has and the other lacks: podman's stopped, configured, initialized; OOMKilled on both", () => {
    expect(parseInspectLine(podmanState({ Status: 'stopped', ExitCode: 0 }))?.info.status).toBe('exited');
    expect(parseInspectLine(podmanState({ Status: 'configured', ExitCode: 0 }))?.info.status).toBe('never started');
    expect(parseInspectLine(podmanState({ Status: 'initialized', ExitCode: 0 }))?.info.status).toBe('never started');
    expect(parseInspectLine(dockerState({ Status: 'created', ExitCode: 0 }))?.info.status).toBe('never started');
    expect(parseInspectLine(dockerState({ Status: 'dead', ExitCode: 0 }))?.info.status).toBe('dead');
    expect(parseInspectLine(dockerState({ OOMKilled: true, ExitCode: 137 }))?.info.status).toBe('was killed for lack of memory (OOM)');
    expect(parseInspectLine(podmanState({ OOMKilled: true, ExitCode: 137 }))?.info.status).toBe('was killed for lack of memory (OOM)');
  });

  test('lines that are not a state say nothing', () => {
    expect(parseInspectLine('')).toBeNull();
    expect(parseInspectLine('Error: no such object: sb-t2')).toBeNull();
    expect(parseInspectLine('sb-t1 null')).toBeNull();
  });
});

describe('why a run failed', () => {
  test('125 is the engine refusing, with what it said (minus pull retry warnings)', () => {
    const stderr = [
      'Trying to pull localhost/nosuch:1...',
      'time="2026-12-04T22:08:38Z" level=warning msg="Failed, retrying in 1s ... (1/3)."',
      'Error: initializing source docker://localhost/nosuch:1: connection refused',
    ].join('\n');
    expect(describeRunFailure('podman', 125, stderr)).toBe(
      'podman refused to run it (exit 125): Trying to pull localhost/nosuch:1... / Error: initializing source docker://localhost/nosuch:1: connection refused',
    );
    expect(describeRunFailure('docker', 125, 'docker: Error response from daemon: network nope not found.\n')).toBe(
      'docker refused to run it (exit 125): docker: Error response from daemon: network nope not found.',
    );
  });

  test('126/127 (docker reports them at run) and unknown codes', () => {
    expect(describeRunFailure('docker', 127, 'exec: "bash": executable file not found in $PATH')).toBe(
      'its command was not found (no bash in the image, or the task directory is not mounted) (exit 127): exec: "bash": executable file not found in $PATH',
    );
    expect(describeRunFailure('docker', 126, '')).toBe('its command could not be run (permission denied: can the image user read the task directory?) (exit 126)');
    expect(describeRunFailure('podman', 2, '')).toBe('podman failed (exit 2)');
  });
});
