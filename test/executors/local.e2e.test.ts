import { defineExecutorSuite } from './suite.js';

// The local executor: tmux on this machine, driven through bash child processes.
defineExecutorSuite('local');
