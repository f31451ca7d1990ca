// The mcpgw web console: a page over the admin API (/admin/v1/, docs/admin-api.md).
// Everything it shows comes from the gateway and may come from an upstream
// (server and tool names, descriptions, audit fields): it is only ever put
// into the page as text (textContent, attribute values), never as HTML, and
// the Content-Security-Policy the gateway sends allows this file and the
// stylesheet and nothing else. The admin key lives in this tab's
// sessionStorage and goes out only as the Authorization header.
const API = '/admin/v1';
const KEY = 'mcpgw.adminKey';
const $ = (id) => document.getElementById(id);

// el('td', { class: 'x' }, 'text', child...): an element with text children only.
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) {
    if (k === undefined || k === null) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function table(head, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows.length ? rows : [el('tr', {}, el('td', { colspan: head.length, class: 'muted' }, 'None'))]));
}

const badge = (text, cls) => el('span', { class: `badge ${cls}` }, text);
// a time as the API gives it: ISO 8601 text or Unix seconds
const when = (t) => (t ? new Date(typeof t === 'number' ? t * 1000 : t).toLocaleString() : '');
// view.replaceChildren with the absent parts (null) left out
const show = (view, ...parts) => view.replaceChildren(...parts.flat().filter((p) => p !== null && p !== undefined));

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const url = path.startsWith('/api/') ? path : API + path; // seed 000's /api/... paths are whole
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const msg = data?.error?.message || data?.error_description || data?.message || `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg);
  }
  return data;
}

// ---- sign-in ------------------------------------------------------------------------
function showSignin(message = '') {
  $('signin').hidden = false;
  $('view').hidden = true;
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('signin-error').textContent = message;
}

async function signIn(ev) {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $('signin-key').value.trim());
  $('signin-key').value = '';
  try {
    await api('/servers');
  } catch (e) {
    sessionStorage.removeItem(KEY);
    showSignin(e.status === 401 ? 'That key is not valid.'
      : e.status === 403 ? 'That key may not use the admin API (its roles lack the admin action).' : e.message);
    return;
  }
  $('signin').hidden = true;
  route();
}

// ---- overview -----------------------------------------------------------------------
const stateClass = (s) => (s === 'ready' ? 'ok' : s === 'connecting' || s === 'disabled' ? 'warn' : 'bad');
let lastSample = null;

// Sum of every sample of the families named, from /metrics (null when off).
async function metricsTotals(names) {
  const res = await fetch('/metrics', { headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}` } });
  if (!res.ok) return null;
  const sums = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of (await res.text()).split('\n')) {
    if (!line || line[0] === '#') continue;
    const name = line.split(/[{ ]/, 1)[0];
    if (name in sums) sums[name] += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sums;
}

async function overview(view) {
  const [{ servers }, { sessions }, totals] = await Promise.all([
    api('/servers'), api('/sessions'), metricsTotals(['mcpgw_requests_total', 'mcpgw_errors_total']).catch(() => null)]);
  const now = Date.now();
  let rate = '';
  if (totals && lastSample) {
    const dt = (now - lastSample.t) / 1000;
    rate = ((totals.mcpgw_requests_total - lastSample.req) / dt).toFixed(1);
  }
  if (totals) lastSample = { t: now, req: totals.mcpgw_requests_total };
  const up = servers.filter((s) => s.state === 'ready').length;
  show(view,
    el('h2', {}, 'Overview'),
    el('div', { class: 'cards' },
      card(`${up} / ${servers.length}`, 'servers ready', 'servers-ready'),
      card(sessions.length, 'sessions', 'sessions'),
      card(totals ? totals.mcpgw_requests_total : '–', 'requests', 'requests'),
      card(totals ? (rate || '…') : '–', 'requests / s', 'rate'),
      card(totals ? totals.mcpgw_errors_total : '–', 'errors', 'errors')),
    totals ? null : el('p', { class: 'muted' }, 'Request counts need metrics (metrics: in the config).'),
    el('h3', {}, 'Servers'),
    table(['Server', 'Transport', 'State', 'Tools', 'Tags', 'Last error'], servers.map((s) => el('tr', {},
      el('td', {}, s.name), el('td', {}, s.transport), el('td', {}, badge(s.state, stateClass(s.state))),
      el('td', {}, s.tools), el('td', {}, s.tags.join(', ')),
      el('td', { class: 'wrap' }, s.health?.last_error || '')))));
}

const card = (n, label, id) => el('div', { class: 'card', 'data-card': id },
  el('div', { class: 'n' }, n), el('div', { class: 'l' }, label));

// ---- servers and tools --------------------------------------------------------------
const pinClass = (s) => (s === 'pinned' ? 'ok' : s === 'pending' ? 'warn' : 'bad');

// A virtual server's globs, or a dash for none.
const globs = (a) => (a.length ? a.join(', ') : '\u2013');

async function tools(view) {
  const [{ tools: list }, { virtual_servers: vservers }] = await Promise.all([api('/tools'), api('/virtual_servers')]);
  const act = (t, what) => async () => {
    if (what === 'reject' && !confirm(`Reject ${t.name}?`)) return;
    await api(`/tools/${encodeURIComponent(t.server)}/${encodeURIComponent(t.tool)}/${what}`, { method: 'POST', body: {} });
    route();
  };
  show(view,
    el('h2', {}, 'Servers & tools'),
    el('p', { class: 'muted' }, 'Tool definitions pinned by hash. A new or changed definition, or one with injection patterns (quarantined), is refused until approved.'),
    table(['Tool', 'Server', 'Description', 'State', 'Reason', 'Definitions', 'First seen', ''], list.map((t) => el('tr', { 'data-tool': t.name },
      el('td', { class: 'mono' }, t.name), el('td', {}, t.server), el('td', { class: 'wrap' }, t.description || ''),
      el('td', {}, badge(t.state, pinClass(t.state))), el('td', {}, t.reason || ''),
      el('td', {}, t.definitions), el('td', {}, when(t.first_seen)),
      el('td', {}, t.state === 'pending' || t.state === 'quarantined'
        ? [el('button', { type: 'button', onclick: act(t, 'approve') }, 'Approve'),
          el('button', { type: 'button', class: 'danger', onclick: act(t, 'reject') }, 'Reject')]
        : '')))),
    el('h3', {}, 'Virtual servers'),
    el('p', { class: 'muted' }, 'Filtered views of the tools, prompts and resources above, each at its own endpoint. ' +
      'Origin: the config file, or the admin API (mcpgw vservers).'),
    table(['Name', 'Endpoint', 'Tools', 'Prompts', 'Resources', 'Origin'], vservers.map((v) => el('tr', { 'data-vserver': v.name },
      el('td', {}, v.name), el('td', { class: 'mono' }, v.endpoint), el('td', { class: 'mono' }, globs(v.tools)),
      el('td', { class: 'mono' }, globs(v.prompts)), el('td', { class: 'mono' }, globs(v.resources)), el('td', {}, v.origin)))));
}

// ---- caches -------------------------------------------------------------------------
const CACHE_KINDS = ['tools', 'prompts', 'resources', 'templates'];

// A kind's cell: how many sessions hold the list and the items held; a
// list held empty because the upstream failed is flagged.
function cacheCell(l) {
  return el('td', { 'data-kind': '' }, `${l.cached} / ${l.items}`,
    l.fetching ? el('span', { class: 'muted' }, ` (${l.fetching} fetching)`) : null,
    l.failed ? el('span', { class: 'bad' }, ` (${l.failed} failed)`) : null);
}

async function caches(view, said = '') {
  const { caches: list } = await api('/caches');
  const clear = (server) => async () => {
    const r = await api(server ? `/caches/${encodeURIComponent(server)}` : '/caches', { method: 'DELETE' });
    await caches(view, `Cleared ${r.cleared} cached list${r.cleared === 1 ? '' : 's'}${server ? ` of ${server}` : ''}: each is asked for again at its next use.`);
  };
  show(view,
    el('h2', {}, 'Caches'),
    el('p', { class: 'muted' }, 'The lists each session keeps of each server, for the server\'s list_cache_ttl. ' +
      'Each kind: sessions holding the list / items held.'),
    el('p', {}, el('button', { type: 'button', class: 'secondary', 'data-clear-all': '', onclick: clear(null) }, 'Clear all')),
    said ? el('p', { class: 'ok', 'data-cleared': '' }, said) : null,
    table(['Server', 'TTL (s)', 'Sessions', ...CACHE_KINDS.map((k) => k[0].toUpperCase() + k.slice(1)), ''],
      list.map((c) => el('tr', { 'data-cache': c.server },
        el('td', {}, c.server), el('td', {}, c.list_cache_ttl), el('td', {}, c.sessions),
        CACHE_KINDS.map((k) => cacheCell(c.lists[k])),
        el('td', {}, el('button', { type: 'button', class: 'secondary', onclick: clear(c.server) }, 'Clear'))))));
}

// ---- API keys -----------------------------------------------------------------------
const keyClass = (s) => (s === 'active' ? 'ok' : s === 'disabled' ? 'warn' : 'bad');

async function keys(view) {
  const { keys: list } = await api('/keys');
  const made = el('div');
  const showSecret = (k, what) => made.replaceChildren(el('div', { class: 'secret' },
    el('strong', {}, `${what} ${k.name}. `), 'Copy the key now: it is not shown again.',
    el('div', { class: 'mono', 'data-secret': '' }, k.key)));
  const create = async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const body = { name: f.name.value.trim() };
    const roles = f.roles.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (roles.length) body.roles = roles;
    try {
      const k = await api('/keys', { method: 'POST', body });
      await keys(view);
      view.querySelector('[data-made]').replaceWith(made);
      showSecret(k, 'Made');
    } catch (e) { $('status').textContent = e.message; }
  };
  const rotate = (k) => async () => {
    if (!confirm(`Rotate ${k.name}? The old key stops working.`)) return;
    const n = await api(`/keys/${encodeURIComponent(k.name)}/rotate`, { method: 'POST', body: {} });
    await keys(view);
    view.querySelector('[data-made]').replaceWith(made);
    showSecret(n, 'Rotated');
  };
  const revoke = (k) => async () => {
    if (!confirm(`Revoke ${k.name}?`)) return;
    await api(`/keys/${encodeURIComponent(k.name)}`, { method: 'DELETE' });
    keys(view);
  };
  show(view,
    el('h2', {}, 'API keys'),
    el('form', { class: 'inline', onsubmit: create },
      el('label', {}, 'Name', el('input', { name: 'name', required: true, pattern: '[A-Za-z0-9_.@\\-]{1,64}' })),
      el('label', {}, 'Roles (comma separated)', el('input', { name: 'roles' })),
      el('button', { type: 'submit' }, 'Create key')),
    el('div', { 'data-made': '' }),
    table(['Name', 'Prefix', 'Roles', 'Status', 'Created', 'Expires', ''], list.map((k) => el('tr', { 'data-key': k.name },
      el('td', {}, k.name), el('td', { class: 'mono' }, k.prefix), el('td', {}, k.roles.join(', ')),
      el('td', {}, badge(k.status, keyClass(k.status))), el('td', {}, when(k.created_at)), el('td', {}, when(k.expires_at) || 'never'),
      el('td', {}, k.status === 'revoked' ? '' : [
        el('button', { type: 'button', class: 'secondary', onclick: rotate(k) }, 'Rotate'),
        el('button', { type: 'button', class: 'danger', onclick: revoke(k) }, 'Revoke')])))));
}

// ---- audit --------------------------------------------------------------------------
const AUDIT_FILTERS = ['user', 'server', 'tool', 'status', 'event_type', 'since', 'until'];

async function audit(view, params = new URLSearchParams()) {
  if (!params.has('limit')) params.set('limit', '50');
  const page = await api(`/audit?${params}`);
  const search = (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const f of AUDIT_FILTERS) if (ev.target[f].value.trim()) p.set(f, ev.target[f].value.trim());
    audit(view, p).catch(fail);
  };
  const older = () => { params.set('before', page.next_before); audit(view, params).catch(fail); };
  const statusClass = (s) => (s === 'success' ? 'ok' : s === 'denied' || s === 'error' ? 'bad' : 'warn');
  show(view,
    el('h2', {}, 'Audit trail'),
    el('form', { class: 'inline', onsubmit: search },
      AUDIT_FILTERS.map((f) => el('label', {}, f.replace('_', ' '), el('input', { name: f, value: params.get(f) || '',
        placeholder: f === 'since' || f === 'until' ? '2026-01-01T00:00:00Z or 1h' : '' }))),
      el('button', { type: 'submit' }, 'Search')),
    el('p', { class: 'muted' }, `${page.matched} matching record${page.matched === 1 ? '' : 's'}; newest last.`),
    table(['#', 'Time', 'Event', 'User', 'Server', 'Tool', 'Status'], page.records.map((r) => el('tr', { 'data-seq': r.seq },
      el('td', {}, r.seq), el('td', {}, when(r.timestamp)), el('td', {}, r.event_type), el('td', {}, r.user || ''),
      el('td', {}, r.mcp_server || ''), el('td', { class: 'mono' }, r.tool_name || ''),
      el('td', {}, badge(r.status, statusClass(r.status)))))),
    page.next_before ? el('button', { type: 'button', class: 'secondary', onclick: older }, 'Older') : null);
}

// ---- policy explain -----------------------------------------------------------------
async function policy(view) {
  const out = el('div', { 'data-decision': '' });
  const explain = async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const body = { principal: f.principal.value.trim(), server: f.server.value.trim(), tool: f.tool.value.trim(), action: f.action.value };
    const roles = f.roles.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (roles.length) body.roles = roles;
    try {
      const d = await api('/policy/explain', { method: 'POST', body });
      out.replaceChildren(el('p', { class: `decision ${d.decision === 'allow' ? 'ok' : 'bad'}` }, d.decision),
        el('pre', { class: 'mono' }, d.explanation));
    } catch (e) { out.replaceChildren(el('p', { class: 'error' }, e.message)); }
  };
  show(view,
    el('h2', {}, 'Policy: explain a decision'),
    el('form', { class: 'inline', onsubmit: explain },
      el('label', {}, 'Principal', el('input', { name: 'principal', required: true, placeholder: 'apikey:ci or alice@example.com' })),
      el('label', {}, 'Roles', el('input', { name: 'roles', placeholder: 'developer, viewer' })),
      el('label', {}, 'Server', el('input', { name: 'server', required: true })),
      el('label', {}, 'Tool', el('input', { name: 'tool', required: true })),
      el('label', {}, 'Action', el('select', { name: 'action' },
        ['invoke_tool', 'list_tools', 'read_resource', 'get_prompt', 'admin'].map((a) => el('option', { value: a }, a)))),
      el('button', { type: 'submit' }, 'Explain')),
    out);
}

// ---- access requests (docs/compliance.md, "Access requests") --------------------------
const accessClass = (s) => (s === 'approved' ? 'ok' : s === 'pending' ? 'warn' : 'bad');

async function access(view, status = 'pending') {
  const { requests } = await api(`/api/security/access/requests?status=${encodeURIComponent(status)}`);
  const note = el('input', { name: 'reason', placeholder: 'why (kept with the decision)' });
  const hours = el('input', { name: 'hours', type: 'number', min: '0.001', step: 'any', placeholder: 'default' });
  const decide = (r, what) => async () => {
    const body = {};
    if (note.value.trim()) body.reason = note.value.trim();
    if (what === 'approve' && hours.value) body.hours = Number(hours.value);
    try {
      await api(`/api/security/access/requests/${r.id}/${what}`, { method: 'POST', body });
      await access(view, status);
    } catch (e) { $('status').textContent = e.message; }
  };
  const filter = el('select', { name: 'status', onchange: (ev) => access(view, ev.target.value).catch(fail) },
    ['pending', 'approved', 'denied', 'expired', 'all'].map((s) => el('option', { value: s, selected: s === status }, s)));
  show(view,
    el('h2', {}, 'Access requests'),
    el('p', { class: 'muted' }, 'Requests for a time-bound grant (POST /api/security/access/request). An approved one is in force for its hours, then expires by itself.'),
    el('form', { class: 'inline', onsubmit: (ev) => ev.preventDefault() },
      el('label', {}, 'Show', filter), el('label', {}, 'Hours (approve)', hours), el('label', {}, 'Reason', note)),
    table(['#', 'User', 'Operation', 'Resource', 'Class', 'Reason', 'Status', 'Requested', 'Expires', ''], requests.map((r) => el('tr', { 'data-request': r.id },
      el('td', {}, r.id), el('td', {}, r.user_id), el('td', {}, r.operation), el('td', { class: 'mono' }, r.resource),
      el('td', {}, r.data_classification), el('td', { class: 'wrap' }, r.reason), el('td', {}, badge(r.status, accessClass(r.status))),
      el('td', {}, `${when(r.requested_at)} by ${r.requested_by}`), el('td', {}, when(r.expires_at)),
      el('td', {}, r.status === 'pending'
        ? [el('button', { type: 'button', onclick: decide(r, 'approve') }, 'Approve'),
          el('button', { type: 'button', class: 'danger', onclick: decide(r, 'deny') }, 'Deny')]
        : '')))));
}

// ---- routing ------------------------------------------------------------------------
const VIEWS = { overview, tools, keys, audit, policy, access, caches };
let timer = null;

function fail(e) {
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
    sessionStorage.removeItem(KEY);
    showSignin(e.status === 401 ? 'Signed out: the key is no longer valid.' : 'That key may not use the admin API.');
    return;
  }
  $('status').textContent = e.message;
}

function route() {
  if (!sessionStorage.getItem(KEY)) return showSignin();
  const name = location.hash.replace(/^#\//, '') || 'overview';
  const view = $('view');
  $('nav').hidden = false;
  $('signout').hidden = false;
  view.hidden = false;
  $('status').textContent = '';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.view === name);
  clearInterval(timer);
  (VIEWS[name] || overview)(view).catch(fail);
  if (name === 'overview') timer = setInterval(() => overview(view).catch(fail), 5000);
}

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => { sessionStorage.removeItem(KEY); lastSample = null; showSignin(); });
  window.addEventListener('hashchange', route);
  route();
});
