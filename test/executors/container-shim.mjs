#!/usr/bin/env node
// A recording stand-in for the docker/podman CLI (no container engine can run here). It appends every argv to
// $SHIM_STATE/calls.jsonl and emulates the lifecycle Switchboard uses, running the "container" as a local
// process group with the env from --env-file:
//   run -d --init --name N [--env-file F]… [--user U] [--network NET] [-v A:B]… [--entrypoint E] IMAGE ARGS…
//     prints an id; runs E ARGS… (no --entrypoint: ARGS…) as root wherever it was started, whatever --user says
//   inspect --format '{{.Name}} {{json .State}}' N…                               one line per known container
//   kill [--signal S] N | stop [-t SECONDS] N | rm [-f] N | logs [--tail K] N
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const state = process.env.SHIM_STATE;
if (!state) {
  process.stderr.write('SHIM_STATE is not set\n');
  process.exit(2);
}
const [command, ...rest] = process.argv.slice(2);
if (command !== '__supervise') appendFileSync(join(state, 'calls.jsonl'), `${JSON.stringify(process.argv.slice(2))}\n`);

const stateFile = (name) => join(state, `${name}.json`);
const read = (name) => (existsSync(stateFile(name)) ? JSON.parse(readFileSync(stateFile(name), 'utf8')) : null);
const write = (name, value) => writeFileSync(stateFile(name), JSON.stringify(value));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};
// The "container" is a session (spawn's detached is setsid). TERM goes to the first process's group, as an init
// passes it to its child (the wrapper forwards it on, as it must in a real container); KILL ends every process
// of the session, as the end of a PID namespace does, whatever process group the wrapper gave them.
const signalGroup = (entry, signal) => {
  const targets = signal === 'SIGKILL' ? sessionMembers(entry.pgid) : [-entry.pgid];
  for (const target of targets) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
};
const sessionMembers = (sid) => {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // after "(comm) ": state ppid pgrp session
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]) === sid) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
};
const noSuch = (name) => {
  process.stderr.write(`Error: No such container: ${name}\n`);
  process.exitCode = 1;
};

async function main() {
  switch (command) {
    case 'run': {
      const options = { envFiles: [], volumes: [] };
      let i = 0;
      for (; i < rest.length; i++) {
        const arg = rest[i];
        if (arg === '-d' || arg === '--init') continue;
        if (arg === '--name') options.name = rest[++i];
        else if (arg === '--env-file') options.envFiles.push(rest[++i]);
        else if (arg === '-v') options.volumes.push(rest[++i]);
        else if (arg === '-w') options.workdir = rest[++i];
        else if (arg === '--entrypoint') options.entrypoint = rest[++i];
        else if (arg === '--user' || arg === '--network') i++;
        else if (arg === '-e') throw new Error('the shim refuses -e: secrets would show in inspect');
        else break;
      }
      const [image, ...args] = rest.slice(i);
      const argv = options.entrypoint ? [options.entrypoint, ...args] : args;
      if (!options.name || !image || argv.length === 0) throw new Error('run: need --name, an image and a command');
      if (read(options.name)) {
        process.stderr.write(`Error: the container name "${options.name}" is already in use\n`);
        process.exit(125);
      }
      const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root' };
      for (const file of options.envFiles) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          const eq = line.indexOf('=');
          if (line && !line.startsWith('#') && eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
        }
      }
      const id = randomBytes(32).toString('hex');
      write(options.name, { id, image, status: 'created', running: false, exitCode: 0 });
      // The supervisor outlives this call, like the container does the CLI.
      const supervisor = spawn(process.execPath, [process.argv[1], '__supervise', options.name, JSON.stringify({ argv, env, cwd: options.workdir ?? '/' })], {
        detached: true,
        stdio: 'ignore',
        env: process.env,
      });
      supervisor.unref();
      for (let waited = 0; read(options.name).status === 'created' && waited < 5000; waited += 20) await sleep(20);
      process.stdout.write(`${id}\n`);
      return;
    }
    case '__supervise': {
      const [name, spec] = rest;
      const { argv, env, cwd } = JSON.parse(spec);
      const log = openSync(join(state, `${name}.log`), 'a');
      const child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', log, log], detached: true });
      write(name, { ...read(name), status: 'running', running: true, pid: child.pid, pgid: child.pid });
      child.on('exit', (code, signal) => {
        // The init ends with its child, and the namespace's other processes with it.
        for (const pid of sessionMembers(child.pid)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        const entry = read(name);
        if (!entry) return;
        const signals = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2, SIGHUP: 1 };
        write(name, { ...entry, status: 'exited', running: false, exitCode: code ?? 128 + (signals[signal] ?? 0) });
      });
      return;
    }
    case 'inspect': {
      const names = [];
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--format' || rest[i] === '--type') i++;
        else names.push(rest[i]);
      }
      for (const name of names) {
        const entry = read(name);
        if (!entry) {
          noSuch(name);
          continue;
        }
        const running = entry.running && alive(entry.pid);
        const status = running ? 'running' : entry.status === 'running' ? 'exited' : entry.status;
        process.stdout.write(`/${name} ${JSON.stringify({ Status: status, Running: running, ExitCode: entry.exitCode, Pid: running ? entry.pid : 0 })}\n`);
      }
      return;
    }
    case 'kill': {
      let signal = 'SIGKILL';
      const names = [];
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--signal' || rest[i] === '-s') signal = `SIG${rest[++i].replace(/^SIG/, '')}`;
        else names.push(rest[i]);
      }
      for (const name of names) {
        const entry = read(name);
        if (!entry?.running) noSuch(name);
        else signalGroup(entry, signal);
      }
      return;
    }
    case 'stop': {
      let seconds = 10;
      const names = [];
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '-t' || rest[i] === '--time') seconds = Number(rest[++i]);
        else names.push(rest[i]);
      }
      for (const name of names) {
        const entry = read(name);
        if (!entry) {
          noSuch(name);
          continue;
        }
        if (!entry.running) continue;
        signalGroup(entry, 'SIGTERM');
        for (let waited = 0; read(name)?.running && waited < seconds * 1000; waited += 50) await sleep(50);
        if (read(name)?.running) signalGroup(entry, 'SIGKILL');
        for (let waited = 0; read(name)?.running && waited < 5000; waited += 50) await sleep(50);
      }
      return;
    }
    case 'rm': {
      const force = rest.includes('-f') || rest.includes('--force');
      for (const name of rest.filter((a) => !a.startsWith('-'))) {
        const entry = read(name);
        if (!entry) {
          noSuch(name);
          continue;
        }
        if (entry.running && alive(entry.pid)) {
          if (!force) {
            process.stderr.write(`Error: cannot remove container ${name}: container is running\n`);
            process.exitCode = 1;
            continue;
          }
          signalGroup(entry, 'SIGKILL');
        }
        rmSync(stateFile(name), { force: true });
      }
      return;
    }
    case 'logs': {
      let tail = Infinity;
      let name;
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--tail' || rest[i] === '-n') tail = Number(rest[++i]);
        else name = rest[i];
      }
      const file = join(state, `${name}.log`);
      if (!existsSync(file)) return noSuch(name);
      const lines = readFileSync(file, 'utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      process.stdout.write(`${lines.slice(-tail).join('\n')}\n`);
      return;
    }
    default:
      process.stderr.write(`shim: unsupported command ${command}\n`);
      process.exit(2);
  }
}

main().catch((error) => {
  process.stderr.write(`shim: ${error.message}\n`);
  process.exit(125);
});
