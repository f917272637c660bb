export { scheduleMigrations, createScheduleStore, type Schedule, type ScheduleStore, type NewSchedule } from './store.js';
export { createScheduleRunner, BUDGET_PAUSE_AFTER, type ScheduleRunner, type ScheduleRunnerDeps, type ScheduledLine } from './runner.js';
export { parseWhen, checkZone, localZone, nextFire, shortestGap, requireMinimum, formatFire, describeWhen, type When } from './when.js';
