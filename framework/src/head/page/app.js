// The dashboard page: hash routes (#tasks, #lineage/<object id>, ...), each
// view filled from the JSON API and refreshed every second while shown. Only
// DOM methods and textContent touch data (never innerHTML), so names coming
// from user code cannot inject markup. No libraries: graphs are plain SVG.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 1000;
let polls = 0;
let inFlight = false;
const lastJson = {};  // view -> the JSON last drawn, so unchanged data is not redrawn

function el(tag, attrs, ...children) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function short(id) { return id ? (id.length > 12 ? id.slice(0, 12) + '…' : id) : ''; }
function bytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + units[i];
}
function clock(unixMs) { return new Date(unixMs).toISOString().slice(11, 19) + ' UTC'; }
// A dead node: when it left (and how long ago, by the snapshot's clock) and why;
// one that left before the head restarted (listed from its storage dir) says so.
// An awaited one (a member before the head restarted, not back yet): when it is listed dead.
function departure(node, nowMs) {
  if (node.state === 'awaited') {
    const left = Math.max(0, Math.ceil((node.awaited_until_ms - nowMs) / 1000));
    return 'not back since the head restarted: listed dead in ' + left + ' s unless it registers again';
  }
  if (node.state !== 'dead') return '';
  const ago = Math.max(0, Math.round((nowMs - node.left_ms) / 1000));
  return 'left ' + clock(node.left_ms) + ' (' + ago + ' s ago' + (node.earlier_run ? ', before the head restarted' : '') +
      '): ' + node.death_cause;
}
// What a live node has now; nothing for a dead or awaited one (`value` may be a function, drawn only if alive).
function live(node, value) { return node.state !== 'alive' ? '' : typeof value === 'function' ? value() : value; }
function ms(n) { return n === null || n === undefined ? '' : n < 1000 ? n + ' ms' : (n / 1000).toFixed(2) + ' s'; }
function stateBadge(s) { return el('span', {class: 'state state-' + s, text: s}); }
function resources(used, total) {
  return Object.keys(total || {}).map(k => k + ' ' + ((used || {})[k] || 0) + '/' + total[k]).join(', ');
}

async function getJson(path) {
  const res = await fetch(path, {cache: 'no-store'});
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
  return body;
}

// A table of rows: columns [key, label, render?]; each row gets class
// `<kind>-row` (and rowClass(row), if given) and data-id; each cell class `col-<key>`.
function fillTable(table, kind, idKey, columns, rows, rowClass) {
  const head = table.tHead;
  if (!head.rows.length) head.append(el('tr', {}, ...columns.map(([, label]) => el('th', {text: label}))));
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr', {class: kind + '-row' + (rowClass ? ' ' + rowClass(row) : ''), 'data-id': row[idKey]});
    for (const [key, , render] of columns) {
      const value = render ? render(row) : row[key];
      const td = el('td', {class: 'col-' + key});
      if (value instanceof Node) td.append(value); else td.textContent = value === undefined || value === null ? '' : String(value);
      tr.append(td);
    }
    body.append(tr);
  }
  table.tBodies[0].replaceWith(body);
}

function filterParams(view) {
  const input = document.getElementById(view + '-filter');
  const params = new URLSearchParams();
  if (input) for (const f of input.value.split(/[\s,]+/).filter(Boolean)) params.append('filter', f);
  params.set('limit', '200');
  return params.toString();
}

async function listView(view, columns, idKey) {
  const data = await getJson('/api/' + view + '?' + filterParams(view));
  const text = JSON.stringify(data);
  if (lastJson[view] === text) return;
  lastJson[view] = text;
  document.getElementById(view + '-count').textContent =
      'showing ' + data.count + ' of ' + data.total + (data.truncated ? ' (more: narrow the filters)' : '');
  fillTable(document.getElementById(view + '-table'), view.replace(/s$/, ''), idKey, columns, data.items);
}

function card(label, value, id) {
  return el('div', {class: 'card', id: id}, el('div', {class: 'label', text: label}), el('div', {class: 'value', text: value}));
}

function storeBar(used, capacity) {
  const bar = el('span', {class: 'bar'}, el('span'));
  bar.firstChild.style.width = capacity ? Math.min(100, 100 * used / capacity) + '%' : '0';
  return el('span', {}, bar, ' ' + bytes(used) + ' / ' + bytes(capacity));
}

const views = {
  async cluster() {
    const c = await getJson('/api/cluster');
    document.getElementById('session').textContent = c.session ? 'session ' + c.session : '';
    const s = c.summary;
    const count = m => Object.entries(m).map(([k, v]) => k + ' ' + v).join(', ') || 'none';
    document.getElementById('cluster-summary').replaceChildren(
        card('nodes', s.nodes + ' alive' + (s.nodes_awaited ? ', ' + s.nodes_awaited + ' awaited' : '') +
            (s.nodes_dead ? ', ' + s.nodes_dead + ' dead' : ''), 'card-nodes'),
        card('tasks', count(s.tasks), 'card-tasks'),
        card('actors', count(s.actors), 'card-actors'),
        card('objects', s.objects, 'card-objects'),
        card('store', bytes(s.store_used_bytes) + ' / ' + bytes(s.store_capacity_bytes), 'card-store'),
        card('resources used', resources(s.resources_used, s.resources_total), 'card-resources'),
        card('worker deaths', c.counters.worker_deaths, 'card-worker-deaths'),
        card('rebuilds', c.counters.object_rebuilds, 'card-rebuilds'));
    fillTable(document.getElementById('nodes-table'), 'node', 'node_id', [
      ['node_id', 'node', r => r.node_id + (r.is_head ? ' (head)' : '')], ['state', 'state', r => stateBadge(r.state)],
      ['address', 'address'],
      ['resources', 'resources used/total', r => r.state !== 'alive'
          ? 'had ' + Object.entries(r.resources_total).map(([k, v]) => k + ' ' + v).join(', ')
          : resources(r.resources_used, r.resources_total)],
      ['store', 'store', r => live(r, () => storeBar(r.store_used_bytes, r.store_capacity_bytes))],
      ['store_objects', 'objects', r => live(r, r.store_objects)], ['spilled_bytes', 'spilled', r => live(r, bytes(r.spilled_bytes))],
      ['workers', 'workers', r => live(r, r.workers)],
      ['running_tasks', 'running tasks', r => live(r, r.running_tasks)],
      ['death_cause', 'left the cluster', r => departure(r, c.taken_ms)],
    ], c.nodes, r => 'node-' + r.state);
  },
  tasks: () => listView('tasks', [
    ['task_id', 'task', r => el('span', {title: r.task_id, text: short(r.task_id)})],
    ['function', 'function', r => r.name ? r.name + ' (' + r.function + ')' : r.function],
    ['state', 'state', r => stateBadge(r.state)], ['node_id', 'node'],
    ['worker', 'worker', r => r.worker < 0 ? '' : r.worker + (r.worker_pid ? ' (pid ' + r.worker_pid + ')' : '')],
    ['attempt', 'attempt'], ['duration_ms', 'duration', r => ms(r.duration_ms)],
    ['error', 'error'],
  ], 'task_id'),
  actors: () => listView('actors', [
    ['actor_id', 'actor', r => el('span', {title: r.actor_id, text: short(r.actor_id)})],
    ['class_name', 'class'], ['name', 'name'], ['state', 'state', r => stateBadge(r.state)],
    ['restarts', 'restarts', r => r.restarts + ' / ' + r.max_restarts], ['death_cause', 'death cause'],
    ['node_id', 'node'], ['pid', 'pid'],
  ], 'actor_id'),
  async objects() {
    const m = await getJson('/api/memory?limit=0');
    document.getElementById('memory-summary').replaceChildren(
        card('objects', m.object_count), card('bytes', bytes(m.total_bytes)), card('pinned', bytes(m.pinned_bytes)),
        ...Object.entries(m.by_where).map(([w, v]) => card(w, v.count + ' · ' + bytes(v.bytes))));
    return listView('objects', [
      ['object_id', 'object', r => el('a', {class: 'object-link', href: '#lineage/' + r.object_id,
                                          'data-id': r.object_id, title: r.object_id, text: short(r.object_id)})],
      ['size_bytes', 'size', r => bytes(r.size_bytes)], ['where', 'where'], ['pinned', 'pinned'],
      ['state', 'state', r => stateBadge(r.state)], ['rebuilt', 'rebuilt'],
      ['ref_count', 'refs', r => r.ref_count + (r.ref_holders.length ? ' (' + r.ref_holders.join(', ') + ')' : '')],
      ['task_id', 'made by', r => short(r.task_id) || 'put'],
    ], 'object_id');
  },
  placement_groups: () => listView('placement_groups', [
    ['placement_group_id', 'placement group', r => short(r.placement_group_id)], ['name', 'name'],
    ['strategy', 'strategy'], ['state', 'state', r => stateBadge(r.state)],
    ['bundles', 'bundles', r => r.bundles.map(b => '{' + resources({}, b.resources).replace(/0\//g, '') + '}' +
                                                   (b.node_id ? '@' + b.node_id : '')).join(' ')],
  ], 'placement_group_id'),
  async logs() {
    const data = await getJson('/api/logs?limit=1000');
    fillTable(document.getElementById('logs-table'), 'log', 'worker', [
      ['worker', 'worker', r => el('a', {class: 'log-link', href: '#logs/' + encodeURIComponent(r.worker), text: r.worker})],
      ['node_id', 'node'], ['pid', 'pid'], ['actor_id', 'actor', r => short(r.actor_id)], ['alive', 'alive'],
      ['path', 'file'],
    ], data.items);
    const worker = route().arg;
    if (!worker) return;
    const log = await getJson('/api/logs/' + encodeURIComponent(worker));
    document.getElementById('log-title').textContent = 'worker ' + log.worker + ' (pid ' + log.pid + ')' +
        (log.truncated ? ': the last ' + bytes(log.size - log.offset) : '');
    document.getElementById('log-text').textContent = log.text;
  },
  async timeline() {
    const trace = await getJson('/api/timeline?limit=500');
    drawTimeline(trace.traceEvents);
  },
  async lineage() {
    const id = route().arg;
    const title = document.getElementById('lineage-title');
    if (!id) { title.textContent = 'Pick an object on the Objects page, or enter an id'; return; }
    const graph = await getJson('/api/objects/' + encodeURIComponent(id) + '/lineage');
    const text = JSON.stringify(graph);
    if (lastJson.lineage === text) return;
    lastJson.lineage = text;
    title.textContent = 'Lineage of ' + id;
    title.setAttribute('data-id', id);
    drawLineage(graph);
  },
};

function drawTimeline(events) {
  const svg = document.getElementById('timeline-svg');
  const tasks = events.filter(e => e.ph === 'X');
  const lanes = [...new Set(tasks.map(e => e.pid + ':' + e.tid))].sort();
  const names = {};
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names[e.pid + ':' + e.tid] = e.args.name;
  const t0 = Math.min(...tasks.map(e => e.ts)), t1 = Math.max(...tasks.map(e => e.ts + e.dur));
  const left = 160, width = Math.max(svg.clientWidth || 900, 400) - left - 10, laneH = 22;
  svg.setAttribute('height', Math.max(40, lanes.length * laneH + 30));
  svg.replaceChildren();
  if (!tasks.length) { svg.append(el('svg:text', {x: 10, y: 20, text: 'no task has started yet'})); return; }
  const x = ts => left + (t1 > t0 ? (ts - t0) / (t1 - t0) * width : 0);
  lanes.forEach((lane, i) => svg.append(el('svg:text', {x: 4, y: i * laneH + 15, class: 'timeline-lane',
                                                       text: 'node ' + lane.split(':')[0] + ' · ' + (names[lane] || lane)})));
  for (const e of tasks) {
    const i = lanes.indexOf(e.pid + ':' + e.tid);
    const rect = el('svg:rect', {x: x(e.ts), y: i * laneH + 3, width: Math.max(1, x(e.ts + e.dur) - x(e.ts)), height: laneH - 6,
                                 class: 'timeline-task state-' + e.args.state, 'data-id': e.args.task_id});
    rect.append(el('svg:title', {text: e.name + ' · ' + e.args.state + ' · ' + ms(e.dur / 1000)}));
    svg.append(rect);
  }
  svg.append(el('svg:text', {x: left, y: lanes.length * laneH + 20, text: ms((t1 - t0) / 1000) + ' shown'}));
}

// Layered drawing: the object asked for at the left, what made it to the right, one column per depth.
function drawLineage(graph) {
  const svg = document.getElementById('lineage-svg');
  const colW = 190, rowH = 56, boxW = 150, boxH = 38;
  const columns = {};
  for (const n of graph.nodes) (columns[n.depth * 2 + (n.kind === 'task' ? -1 : 0)] ||= []).push(n);
  const pos = {};
  let maxRows = 1;
  for (const [col, nodes] of Object.entries(columns)) {
    nodes.forEach((n, i) => { pos[n.id] = {x: 10 + Number(col) * colW, y: 10 + i * rowH}; });
    maxRows = Math.max(maxRows, nodes.length);
  }
  const maxCol = Math.max(0, ...Object.keys(columns).map(Number));
  svg.setAttribute('height', maxRows * rowH + 20);
  svg.setAttribute('width', maxCol * colW + boxW + 20);
  svg.replaceChildren(el('svg:defs', {}, el('svg:marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5,
      markerWidth: 6, markerHeight: 6, orient: 'auto'}, el('svg:path', {d: 'M0,0 L10,5 L0,10 z', fill: '#8a93a6'}))));
  for (const e of graph.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    // Arrows point the way data flowed: from an input (right) to what used it (left).
    svg.append(el('svg:path', {class: 'lineage-edge lineage-edge-' + e.kind, 'data-from': e.from, 'data-to': e.to,
                               d: `M${a.x},${a.y + boxH / 2} L${b.x + boxW},${b.y + boxH / 2}`}));
  }
  for (const n of graph.nodes) {
    const p = pos[n.id];
    const g = el('svg:g', {class: 'lineage-node lineage-' + n.kind + ' state-' + n.state + (n.id === graph.root ? ' lineage-root' : ''),
                           'data-id': n.id, 'data-kind': n.kind, 'data-state': n.state, transform: `translate(${p.x},${p.y})`});
    g.append(el('svg:rect', {width: boxW, height: boxH, rx: n.kind === 'object' ? 10 : 0, class: 'lineage-box'}));
    g.append(el('svg:text', {x: 8, y: 15, text: n.kind === 'task' ? (n.name || n.function || 'task') : short(n.id)}));
    g.append(el('svg:text', {x: 8, y: 30, text: n.state + (n.kind === 'object' && n.where ? ' · ' + n.where : '') +
                                                  (n.kind === 'task' && n.attempt ? ' · attempt ' + n.attempt : '')}));
    g.append(el('svg:title', {text: n.kind + ' ' + n.id}));
    g.addEventListener('click', () => {
      document.getElementById('lineage-details').textContent = JSON.stringify(n, null, 2);
      if (n.kind === 'object' && n.id !== graph.root) location.hash = '#lineage/' + n.id;
    });
    svg.append(g);
  }
  if (graph.truncated) svg.append(el('svg:text', {x: 10, y: maxRows * rowH + 14, text: 'deeper lineage not drawn'}));
}

function route() {
  const [page, ...rest] = (location.hash.slice(1) || 'cluster').split('/');
  return {page: views[page] ? page : 'cluster', arg: decodeURIComponent(rest.join('/'))};
}

async function refresh() {
  if (inFlight) return;  // one poll at a time: a slow answer delays the next, never piles up
  inFlight = true;
  const {page} = route();
  const banner = document.getElementById('error-banner');
  try {
    await views[page]();
    banner.hidden = true;
    polls++;
    const stamp = document.getElementById('last-refresh');
    stamp.setAttribute('data-polls', polls);
    stamp.textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    banner.hidden = false;
    banner.textContent = 'cannot refresh ' + page + ': ' + err.message;
  } finally {
    inFlight = false;
  }
}

function show() {
  const {page} = route();
  for (const section of document.querySelectorAll('section.page')) section.hidden = section.id !== 'page-' + page;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  delete lastJson[page];
  refresh();
}

window.addEventListener('hashchange', show);
document.getElementById('lineage-go').addEventListener('click', () => {
  location.hash = '#lineage/' + document.getElementById('lineage-input').value.trim();
});
for (const input of document.querySelectorAll('input.filter')) {
  input.addEventListener('change', () => { for (const k of Object.keys(lastJson)) delete lastJson[k]; refresh(); });
}
show();
setInterval(refresh, REFRESH_MS);
