// The fleet page: a snapshot and then live card changes over Server-Sent Events. Everything is drawn with
// textContent and DOM calls (never innerHTML), so nothing an agent wrote can run here.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const MARK = { completed: '✅', in_progress: '🔄', pending: '🔲', cancelled: '❌' };
const LABELS = ['Name', 'State', 'Todo', 'Active item', 'Elapsed', 'Tokens', 'Cost', 'Next schedule', 'Channel', 'Owner'];
const rows = new Map();
let clockSkew = 0;
let openName = null;

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}

const now = () => Date.now() + clockSkew;

function tokens(n) {
  if (n === undefined || n === null) return '';
  if (n < 1000) return String(Math.round(n));
  if (n < 10000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  if (n < 1e6) return `${Math.round(n / 1000)}k`;
  return `${(n / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
}
function cost(usd) {
  if (usd === undefined || usd === null) return '';
  return usd > 0 && usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${m % 60}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}
const when = (ms) => new Date(ms).toLocaleString();

function elapsedOf(row) {
  if (!row.startedAt) return '';
  return duration((row.state === 'idle' || row.state === 'failed') && row.endedAt ? row.endedAt - row.startedAt : now() - row.startedAt);
}

function costCell(row) {
  const spent = cost(row.costUsd);
  if (!row.budget) return spent;
  const parts = [];
  if (row.budget.costUsd !== undefined) parts.push(`${spent || '$0.00'} / ${cost(row.budget.costUsd)}`);
  else parts.push(spent);
  if (row.budget.tokens !== undefined) parts.push(`${tokens(row.tokens || 0)} / ${tokens(row.budget.tokens)} tok`);
  if (row.budget.timeMs !== undefined) parts.push(`≤ ${duration(row.budget.timeMs)}`);
  return parts.filter(Boolean).join(' · ');
}

function progress(row) {
  const box = el('span', { class: 'todo' });
  if (!row.total) return box;
  const pct = Math.round((100 * row.done) / row.total);
  const bar = el('span', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(row.total), 'aria-valuenow': String(row.done) });
  const fill = el('span');
  fill.style.width = `${pct}%`;
  bar.append(fill);
  box.append(bar, el('span', { class: 'frac', text: `${row.done}/${row.total}` }));
  return box;
}

function drawRow(row) {
  const tr = el('tr', { 'data-name': row.name, 'data-state': row.state, class: row.name === openName ? 'selected' : undefined });
  const open = el('button', { class: 'name', type: 'button', text: row.name });
  open.addEventListener('click', () => openDetail(row.name));
  const cells = [
    el('span', {}, open, el('div', { class: 'meta', text: `${row.kind === 'task' ? 'task' : 'opencode'} · ${row.where}` })),
    el('span', { class: `state ${row.state}`, text: row.state }),
    progress(row),
    el('span', { class: 'active', text: row.active || '' }),
    el('span', { class: 'elapsed', text: elapsedOf(row) }),
    el('span', { text: tokens(row.tokens) }),
    el('span', { text: costCell(row) }),
    el('span', { text: row.nextSchedule ? `${when(row.nextSchedule.at)}${row.nextSchedule.line ? ` · ${row.nextSchedule.line}` : ''}` : '' }),
    el('span', { text: row.channel }),
    el('span', { text: row.owner }),
  ];
  cells.forEach((cell, i) => tr.append(el('td', { 'data-label': i ? LABELS[i] : undefined }, cell)));
  return tr;
}

function putRow(row) {
  rows.set(row.name, row);
  const body = $('names').tBodies[0];
  const fresh = drawRow(row);
  const old = body.querySelector(`tr[data-name="${CSS.escape(row.name)}"]`);
  if (old) old.replaceWith(fresh);
  else {
    const after = [...body.rows].find((tr) => tr.dataset.name > row.name);
    body.insertBefore(fresh, after || null);
  }
}

function tile(name, up, lines) {
  const box = el('div', { class: 'tile', 'data-name': name });
  box.append(el('div', { class: 't-name' }, el('span', { class: `dot ${up ? 'up' : 'down'}` }), name));
  for (const line of lines) if (line) box.append(el('div', { class: 't-meta', text: line }));
  return box;
}

function drawOverview(snap) {
  const servers = $('servers');
  servers.replaceChildren(
    ...snap.servers.map((s) =>
      tile(s.name, s.healthy, [
        `${s.healthy ? 'healthy' : 'down'}${s.version ? ` · v${s.version}` : ''}${s.managed ? ' · run by Switchboard' : ''}`,
        s.problem && !s.healthy ? s.problem : '',
        `${s.names.length} name${s.names.length === 1 ? '' : 's'}${s.names.length ? `: ${s.names.slice(0, 8).join(', ')}${s.names.length > 8 ? '…' : ''}` : ''}`,
        `today ${tokens(s.today.tokens)} tokens · ${cost(s.today.costUsd)}`,
      ]),
    ),
  );
  if (!snap.servers.length) servers.append(el('p', { class: 'note', text: 'No OpenCode servers.' }));
  const executors = $('executors');
  executors.replaceChildren(
    ...snap.executors.map((e) =>
      tile(e.name, e.reachable, [
        `${e.type} · ${e.reachable ? 'reachable' : 'unreachable'} · ${e.running} running${e.queued ? `, ${e.queued} queued` : ''} (max ${e.max})`,
        e.problems.length ? e.problems.join('; ') : '',
        `${e.names.length} name${e.names.length === 1 ? '' : 's'}`,
        `today ${tokens(e.today.tokens)} tokens · ${cost(e.today.costUsd)}`,
      ]),
    ),
  );
  if (!snap.executors.length) executors.append(el('p', { class: 'note', text: 'No executors.' }));
}

function barChart(target, days, series, format) {
  const width = 300;
  const height = 120;
  const bottom = 16;
  const slot = width / days.length;
  const max = Math.max(1e-9, ...days.map((d) => series.reduce((sum, s) => sum + d[s.key], 0)));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img' });
  days.forEach((day, i) => {
    let y = height - bottom;
    for (const s of series) {
      const h = ((height - bottom - 12) * day[s.key]) / max;
      if (h > 0) {
        const rect = svg('rect', { x: i * slot + 2, y: y - h, width: slot - 4, height: h, class: s.cls });
        const title = svg('title', {});
        title.textContent = `${day.day}: ${format(day[s.key])} ${s.label}`;
        rect.append(title);
        chart.append(rect);
        y -= h;
      }
    }
    if (i % 2 === 0) {
      const label = svg('text', { x: Math.min(Math.max(i * slot + slot / 2, 14), width - 14), y: height - 4, 'text-anchor': 'middle' });
      label.textContent = day.day.slice(5);
      chart.append(label);
    }
  });
  const top = svg('text', { x: 2, y: 9 });
  top.textContent = `max ${format(max)}`;
  chart.append(top);
  target.replaceChildren(chart);
}

function drawCharts(days) {
  barChart($('chart-runs'), days, [
    { key: 'finished', cls: 'bar-ok', label: 'finished' },
    { key: 'failed', cls: 'bar-bad', label: 'failed' },
    { key: 'other', cls: 'bar-other', label: 'other' },
  ], (n) => String(Math.round(n)));
  barChart($('chart-cost'), days, [{ key: 'costUsd', cls: 'bar-cost', label: '' }], cost);
}

function applySnapshot(snap) {
  clockSkew = snap.now - Date.now();
  $('actor').textContent = `${snap.actor.name || snap.actor.id} (${snap.actor.role === 'none' ? 'some names' : snap.actor.role})`;
  drawOverview(snap);
  drawCharts(snap.charts);
  rows.clear();
  const all = document.createDocumentFragment();
  for (const row of snap.rows) {
    rows.set(row.name, row);
    all.append(drawRow(row));
  }
  $('names').tBodies[0].replaceChildren(all);
  $('count').textContent = `(${snap.rows.length})`;
  $('empty').hidden = snap.rows.length > 0;
  // A resync (a reconnect, a run's end) may bring what the open detail missed: it is read again.
  if (openName && !rows.has(openName)) closeDetail();
  else if (openName) openDetail(openName);
}

function drawCard(card) {
  $('detail-card').textContent = card ? card.text : 'No card yet: nothing has run here since the bot kept cards.';
  $('detail-todos').replaceChildren(...(card ? card.todos : []).map((t) => el('li', { 'data-status': t.status, text: `${MARK[t.status] || '🔲'} ${t.content}` })));
}

function drawTimeline(runs) {
  const box = $('detail-timeline');
  if (!runs.length) {
    box.replaceChildren(el('p', { class: 'note', text: 'No runs recorded yet.' }));
    $('detail-runs').replaceChildren();
    return;
  }
  const ordered = [...runs].reverse();
  const start = ordered[0].startedAt;
  const end = Math.max(now(), ...ordered.map((r) => r.endedAt || 0));
  const span = Math.max(1, end - start);
  const chart = svg('svg', { viewBox: '0 0 300 40', preserveAspectRatio: 'none', role: 'img' });
  chart.append(svg('line', { x1: 0, y1: 20, x2: 300, y2: 20, stroke: '#d9dee7' }));
  for (const run of ordered) {
    const x = (300 * (run.startedAt - start)) / span;
    const w = Math.max(2, (300 * ((run.endedAt || now()) - run.startedAt)) / span);
    const rect = svg('rect', { x, y: 10, width: w, height: 20, class: run.phase === 'finished' ? 'bar-ok' : run.phase === 'failed' ? 'bar-bad' : 'bar-cost' });
    const title = svg('title', {});
    title.textContent = `${when(run.startedAt)} · ${run.phase}`;
    rect.append(title);
    chart.append(rect);
  }
  box.replaceChildren(chart);
  $('detail-runs').replaceChildren(
    ...runs.map((run) =>
      el('li', { class: run.phase, 'data-phase': run.phase, text: `${when(run.startedAt)} · ${run.phase} · ${duration((run.endedAt || now()) - run.startedAt)}${run.tokens ? ` · ${tokens(run.tokens)} tokens` : ''}${run.costUsd ? ` · ${cost(run.costUsd)}` : ''}` }),
    ),
  );
}

async function openDetail(name) {
  openName = name;
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  for (const tr of $('names').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.name === name);
  const response = await fetch(`/api/names/${encodeURIComponent(name)}`, { credentials: 'same-origin' });
  if (openName !== name) return;
  if (!response.ok) {
    showProblem(await response.text());
    return;
  }
  const detail = await response.json();
  $('detail').hidden = false;
  $('detail-name').textContent = `${name} · ${detail.row.state}`;
  drawCard(detail.card);
  drawTimeline(detail.runs);
  $('detail-prompts').replaceChildren(
    ...(detail.prompts.length ? detail.prompts.map((p) => el('div', {}, el('div', { class: 'meta', text: `${when(p.sentAt)} · ${p.actor}` }), el('pre', { class: 'prompt', text: p.text }))) : [el('p', { class: 'note', text: 'No prompts.' })]),
  );
  $('detail-finals').replaceChildren(
    ...(detail.finals.length ? detail.finals.map((f) => el('div', {}, el('div', { class: 'meta', text: `${when(f.at)} · ${f.ok ? '✅ finished' : '❌ failed'}` }), el('pre', { class: 'final', text: f.text }))) : [el('p', { class: 'note', text: 'No final output yet.' })]),
  );
  $('detail-log-box').hidden = detail.log === undefined;
  $('detail-log').textContent = detail.log || '';
}

function closeDetail() {
  openName = null;
  $('detail').hidden = true;
  history.replaceState(null, '', location.pathname);
  for (const tr of $('names').tBodies[0].rows) tr.classList.remove('selected');
}

function showProblem(text) {
  $('problem').hidden = false;
  $('problem').textContent = text;
}

function connect() {
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    $('live').textContent = 'live';
    $('live').className = 'live on';
  });
  source.addEventListener('snapshot', (event) => {
    $('problem').hidden = true;
    applySnapshot(JSON.parse(event.data));
    if (!openName && location.hash.length > 1) openDetail(decodeURIComponent(location.hash.slice(1)));
  });
  source.addEventListener('card', (event) => {
    const { row, card } = JSON.parse(event.data);
    putRow(row);
    $('count').textContent = `(${rows.size})`;
    $('empty').hidden = true;
    if (openName === row.name) {
      $('detail-name').textContent = `${row.name} · ${row.state}`;
      drawCard(card);
      // A run that ended adds to its history and outputs.
      if (card.phase === 'finished' || card.phase === 'failed') openDetail(row.name);
    }
  });
  source.addEventListener('error', () => {
    $('live').className = 'live off';
    if (source.readyState === EventSource.CLOSED) {
      // Refused (the session ended, or too many connections): say why, and try again later.
      $('live').textContent = 'disconnected';
      fetch('/api/snapshot', { credentials: 'same-origin' }).then(async (response) => {
        if (!response.ok) showProblem(await response.text());
      }, () => undefined);
      setTimeout(connect, 5000);
    } else $('live').textContent = 'reconnecting…';
  });
}

$('detail-close').addEventListener('click', closeDetail);
setInterval(() => {
  for (const tr of $('names').tBodies[0].rows) {
    const row = rows.get(tr.dataset.name);
    const cell = tr.querySelector('.elapsed');
    if (row && cell && row.startedAt && row.state !== 'idle' && row.state !== 'failed') cell.textContent = elapsedOf(row);
  }
}, 1000);
connect();
