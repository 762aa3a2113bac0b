// kefu 客服工作台: a small client of kefud's /api/v1 routes, no framework, no build step.
//
// Safety rule: text from customers, agents or the API is only ever put into the page through
// textContent / DOM properties (el() below), never parsed as markup, and the server's
// Content-Security-Policy forbids inline script. The session token lives in sessionStorage (one
// browser tab) and is sent as a bearer token.
'use strict';

const TOKEN_KEY = 'kefu.session';
const USER_KEY = 'kefu.user';
const REFRESH_MS = 10000;

const LABELS = {
  state: { bot: '机器人接待', waiting_agent: '排队中', with_agent: '人工服务中', closed: '已结束' },
  status: { new: '新建', open: '处理中', pending: '等待客户', on_hold: '挂起', solved: '已解决', closed: '已关闭' },
  priority: { low: '低', normal: '普通', high: '高', urgent: '紧急' },
  sla: { ok: '正常', warning: '即将超时', breached: '已超时' },
  sender: { customer: '客户', bot: '机器人', agent: '客服', system: '系统' },
  role: { agent: '客服', supervisor: '主管', admin: '管理员' },
  metricState: { active: '计时中', paused: '已暂停', fulfilled: '已达成', breached: '已超时' },
  metric: { first_response: '首次响应', next_response: '后续响应', periodic_update: '定期更新', resolution: '解决' },
  event: {
    created: '创建工单', customer_message: '客户消息', agent_reply: '客服回复', bot_reply: '机器人回复',
    internal_note: '内部备注', field_changed: '字段变更', sla_warning: 'SLA 预警', sla_breach: 'SLA 超时',
    notify: '通知', follow_up: '跟进工单', merged: '合并',
  },
  channel: { wecom: '企业微信', wecom_kf: '微信客服', dingtalk: '钉钉' },
};

function label(kind, value) {
  if (value === null || value === undefined || value === '') return '—';
  return (LABELS[kind] && LABELS[kind][value]) || String(value);
}

// el('div', {class: 'x', onclick: f}, child, 'text', ...): builds an element; strings become text
// nodes, so nothing is ever parsed as HTML.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (response.status === 401 && path !== '/api/v1/session') {
    signOut();
    throw new ApiError(401, '登录已过期，请重新登录');
  }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return data;
}

const state = {
  view: 'conversations',
  user: null,
  timer: null,
  filters: { conversations: { state: 'waiting_agent' }, tickets: { status: '', priority: '', sla: '', q: '', mine: false } },
  selected: null, // {kind: 'conversation'|'ticket', id}
  users: [],
  drafts: {}, // ticket id -> reply text being written
};

function root() {
  return document.getElementById('app');
}

function setContent(...children) {
  root().replaceChildren(...children);
}

function flash(message, kind) {
  const bar = document.getElementById('flash');
  if (!bar) return;
  bar.textContent = message;
  bar.className = `flash ${kind || 'info'}`;
}

// ---- login ----

function renderLogin(message) {
  const username = el('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = el('p', { class: 'error', role: 'alert' }, message || '');
  const form = el('form', { class: 'login', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const session = await api('POST', '/api/v1/session', { username: username.value, password: password.value });
      sessionStorage.setItem(TOKEN_KEY, session.token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(session.user));
      start();
    } catch (e) {
      error.textContent = e.status === 401 ? '用户名或密码错误' : e.message;
    }
  } },
  el('h1', {}, 'kefu 客服工作台'),
  el('label', {}, '用户名', username),
  el('label', {}, '密码', password),
  el('button', { type: 'submit' }, '登录'),
  error);
  setContent(form);
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
  renderLogin();
}

async function logout() {
  try {
    await api('DELETE', '/api/v1/session');
  } catch (_) {
    // The session is dropped locally either way.
  }
  signOut();
}

// ---- layout ----

function isSupervisor() {
  return state.user && (state.user.role === 'supervisor' || state.user.role === 'admin');
}

function renderShell() {
  const tabs = [['conversations', '会话'], ['tickets', '工单']];
  if (isSupervisor()) tabs.push(['monitor', '监控']);
  const nav = el('nav', {}, tabs.map(([view, text]) => el('button', {
    class: view === state.view ? 'tab active' : 'tab',
    onclick: () => { state.view = view; state.selected = null; renderShell(); },
  }, text)));
  const header = el('header', {},
    el('strong', { class: 'brand' }, 'kefu 客服工作台'), nav,
    el('span', { class: 'who' }, `${state.user.display_name}（${label('role', state.user.role)}）`),
    el('button', { class: 'link', onclick: logout }, '退出'));
  const main = el('main', { id: 'main' });
  setContent(header, el('div', { id: 'flash', class: 'flash' }), main);
  refresh();
}

async function refresh() {
  const main = document.getElementById('main');
  if (!main) return;
  try {
    if (state.view === 'conversations') await renderConversations(main);
    else if (state.view === 'tickets') await renderTickets(main);
    else await renderMonitor(main);
  } catch (e) {
    if (e.status !== 401) flash(e.message, 'error');
  }
}

function select(options, value, onchange, kind) {
  return el('select', { onchange: (event) => onchange(event.target.value) },
    options.map((o) => el('option', { value: o, selected: o === value }, o === '' ? '全部' : label(kind, o))));
}

// ---- conversations ----

async function renderConversations(main) {
  const f = state.filters.conversations;
  const query = f.state ? `?state=${encodeURIComponent(f.state)}` : '';
  const data = await api('GET', `/api/v1/conversations${query}`);
  const rows = data.conversations.map((c) => el('tr', {
    class: state.selected && state.selected.kind === 'conversation' && state.selected.id === c.id ? 'selected' : '',
    onclick: () => { state.selected = { kind: 'conversation', id: c.id }; refresh(); },
  },
  el('td', {}, `#${c.id}`), el('td', {}, label('channel', c.channel), ' / ', c.app),
  el('td', {}, `客户 ${c.customer_id}`), el('td', {}, el('span', { class: `badge ${c.state}` }, label('state', c.state))),
  el('td', {}, String(c.message_count)), el('td', {}, formatTime(c.last_message_at_ms))));
  const list = el('section', { class: 'list' },
    el('div', { class: 'filters' }, '状态 ',
      select(['', 'bot', 'waiting_agent', 'with_agent', 'closed'], f.state, (v) => { f.state = v; refresh(); }, 'state')),
    el('table', {}, el('thead', {}, el('tr', {}, ['会话', '渠道', '客户', '状态', '消息数', '最后消息'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 6, class: 'empty' }, '暂无会话')))));
  const detail = el('section', { class: 'detail' });
  if (state.selected && state.selected.kind === 'conversation') await renderConversation(detail, state.selected.id);
  else detail.append(el('p', { class: 'empty' }, '选择左侧会话查看完整对话'));
  main.replaceChildren(list, detail);
}

async function renderConversation(target, id) {
  const data = await api('GET', `/api/v1/conversations/${id}`);
  const c = data.conversation;
  const customer = data.customer;
  const header = el('div', { class: 'detail-head' },
    el('h2', {}, `会话 #${c.id}`),
    el('span', { class: `badge ${c.state}` }, label('state', c.state)),
    customer ? el('span', {}, `客户：${customer.display_name || customer.external_id}`) : null,
    c.ticket_id ? el('button', { class: 'link', onclick: () => openTicket(c.ticket_id) }, `工单 #${c.ticket_id}`) : null);
  const messages = data.messages.map((m) => el('div', { class: `message ${m.sender}` },
    el('div', { class: 'meta' }, `${label('sender', m.sender)} · ${formatTime(m.created_at_ms)}${m.type !== 'text' ? ` · ${m.type}` : ''}`),
    el('div', { class: 'body' }, m.content)));
  target.append(header, el('div', { class: 'transcript' }, messages));
}

function openTicket(id) {
  state.view = 'tickets';
  state.selected = { kind: 'ticket', id };
  renderShell();
}

// ---- tickets ----

function subjectOf(t) {
  return t.subject || `${label('channel', t.channel)}客户 ${t.requester} 的咨询`;
}

async function renderTickets(main) {
  const f = state.filters.tickets;
  const params = new URLSearchParams();
  if (f.status) params.set('status', f.status);
  if (f.priority) params.set('priority', f.priority);
  if (f.sla) params.set('sla', f.sla);
  if (f.q) params.set('q', f.q);
  if (f.mine) params.set('assignee', state.user.username);
  const data = await api('GET', `/api/v1/tickets?${params}`);
  const search = el('input', { type: 'search', placeholder: '搜索主题', value: f.q, onchange: (e) => { f.q = e.target.value; refresh(); } });
  const rows = data.tickets.map((t) => el('tr', {
    class: state.selected && state.selected.kind === 'ticket' && state.selected.id === t.id ? 'selected' : '',
    onclick: () => { state.selected = { kind: 'ticket', id: t.id }; refresh(); },
  },
  el('td', {}, `#${t.id}`), el('td', { class: 'subject' }, subjectOf(t)),
  el('td', {}, label('status', t.status)), el('td', {}, el('span', { class: `badge p-${t.priority}` }, label('priority', t.priority))),
  el('td', {}, t.group || '—'), el('td', {}, t.assignee || '未分配'),
  el('td', {}, el('span', { class: `badge sla-${t.sla_state}` }, label('sla', t.sla_state)))));
  const list = el('section', { class: 'list' },
    el('div', { class: 'filters' },
      '状态 ', select(['', 'new', 'open', 'pending', 'on_hold', 'solved', 'closed'], f.status, (v) => { f.status = v; refresh(); }, 'status'),
      ' 优先级 ', select(['', 'urgent', 'high', 'normal', 'low'], f.priority, (v) => { f.priority = v; refresh(); }, 'priority'),
      ' SLA ', select(['', 'ok', 'warning', 'breached'], f.sla, (v) => { f.sla = v; refresh(); }, 'sla'),
      ' ', search,
      el('label', { class: 'check' }, el('input', { type: 'checkbox', checked: f.mine, onchange: (e) => { f.mine = e.target.checked; refresh(); } }), '只看我的')),
    el('table', {}, el('thead', {}, el('tr', {}, ['工单', '主题', '状态', '优先级', '组', '处理人', 'SLA'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 7, class: 'empty' }, '暂无工单')))));
  const detail = el('section', { class: 'detail' });
  if (state.selected && state.selected.kind === 'ticket') await renderTicket(detail, state.selected.id);
  else detail.append(el('p', { class: 'empty' }, '选择左侧工单查看详情'));
  main.replaceChildren(list, detail);
}

async function loadUsers() {
  if (state.users.length) return state.users;
  const data = await api('GET', '/api/v1/users');
  state.users = data.users.filter((u) => !u.disabled);
  return state.users;
}

async function updateTicket(id, change) {
  try {
    await api('PATCH', `/api/v1/tickets/${id}`, change);
    flash('已更新', 'info');
  } catch (e) {
    flash(e.message, 'error');
  }
  refresh();
}

async function renderTicket(target, id) {
  const [t, users] = await Promise.all([api('GET', `/api/v1/tickets/${id}`), loadUsers()]);
  const assignees = [''].concat(users.map((u) => u.username));
  const assigneeSelect = el('select', { onchange: (e) => updateTicket(id, { assignee: e.target.value }) },
    assignees.map((name) => {
      const user = users.find((u) => u.username === name);
      return el('option', { value: name, selected: name === (t.assignee || '') }, name === '' ? '未分配' : (user ? user.display_name : name));
    }));
  const fields = el('div', { class: 'fields' },
    el('label', {}, '状态', select(['new', 'open', 'pending', 'on_hold', 'solved', 'closed'], t.status, (v) => updateTicket(id, { status: v }), 'status')),
    el('label', {}, '优先级', select(['low', 'normal', 'high', 'urgent'], t.priority, (v) => updateTicket(id, { priority: v }), 'priority')),
    el('label', {}, '处理人', assigneeSelect),
    t.assignee !== state.user.username ? el('button', { onclick: () => updateTicket(id, { assignee: state.user.username }) }, '分配给我') : null);
  const sla = el('table', { class: 'sla' },
    el('thead', {}, el('tr', {}, ['指标', '目标(分钟)', '截止', '状态', '超时'].map((h) => el('th', {}, h)))),
    el('tbody', {}, (t.sla || []).map((m) => el('tr', { class: m.breached ? 'breached' : '' },
      el('td', {}, label('metric', m.metric)), el('td', {}, String(m.target_minutes)),
      el('td', {}, formatTime(m.due_ms)), el('td', {}, label('metricState', m.state)),
      el('td', {}, m.breached ? `超时 ${m.late_by_minutes} 分钟` : '否')))));
  const timeline = el('ol', { class: 'timeline' }, (t.timeline || []).map((e) => el('li', { class: `event ${e.kind}` },
    el('div', { class: 'meta' }, `${label('event', e.kind)} · ${e.actor ? `${label('sender', e.actor.kind)} ${e.actor.id || ''}` : ''} · ${formatTime(e.at_ms)}`),
    e.field ? el('div', { class: 'change' }, `${e.field}: ${e.before || '—'} → ${e.after || '—'}`) : null,
    e.body ? el('div', { class: 'body' }, e.body) : null)));
  // The draft survives the list refreshes that redraw this panel.
  const text = el('textarea', {
    rows: 4, placeholder: '回复客户，或写内部备注', value: state.drafts[id] || '',
    oninput: (e) => { state.drafts[id] = e.target.value; },
  });
  const send = async (isPublic) => {
    if (!text.value.trim()) return;
    try {
      await api('POST', `/api/v1/tickets/${id}/comments`, { body: text.value, public: isPublic });
      text.value = '';
      delete state.drafts[id];
      flash(isPublic ? '回复已进入发送队列' : '备注已保存', 'info');
    } catch (e) {
      flash(e.message, 'error');
    }
    refresh();
  };
  const composer = el('div', { class: 'composer' }, text,
    el('div', { class: 'actions' },
      el('button', { onclick: () => send(true) }, '公开回复'),
      el('button', { class: 'secondary', onclick: () => send(false) }, '内部备注')));
  target.append(
    el('div', { class: 'detail-head' }, el('h2', {}, `工单 #${t.id}`), el('span', { class: 'subject' }, subjectOf(t)),
      t.conversation_id ? el('button', { class: 'link', onclick: () => { state.view = 'conversations'; state.selected = { kind: 'conversation', id: t.conversation_id }; renderShell(); } }, `会话 #${t.conversation_id}`) : null),
    fields, el('h3', {}, 'SLA'), sla, composer, el('h3', {}, '时间线'), timeline);
}

// ---- monitor (supervisors) ----

async function renderMonitor(main) {
  const [waiting, withAgent, warning, breached, report] = await Promise.all([
    api('GET', '/api/v1/conversations?state=waiting_agent'),
    api('GET', '/api/v1/conversations?state=with_agent'),
    api('GET', '/api/v1/tickets?sla=warning'),
    api('GET', '/api/v1/tickets?sla=breached'),
    api('GET', '/api/v1/reports/sla'),
  ]);
  const card = (title, value, kind) => el('div', { class: `card ${kind || ''}` }, el('div', { class: 'value' }, String(value)), el('div', {}, title));
  const load = new Map();
  for (const c of withAgent.conversations) load.set(c.app, (load.get(c.app) || 0) + 1);
  const rows = report.hit_rates.map((r) => el('tr', {},
    el('td', {}, label('metric', r.metric)), el('td', {}, label('priority', r.priority)),
    el('td', {}, String(r.measured)), el('td', {}, String(r.met)), el('td', {}, String(r.open)),
    el('td', {}, r.hit_rate === null ? '—' : `${(r.hit_rate * 100).toFixed(1)}%`)));
  const pct = report.percentiles;
  const minutes = (v) => (v === null || v === undefined ? '—' : `${v} 分钟`);
  main.replaceChildren(el('section', { class: 'monitor' },
    el('div', { class: 'cards' },
      card('排队中会话', waiting.conversations.length, waiting.conversations.length ? 'warn' : ''),
      card('人工服务中', withAgent.conversations.length),
      card('SLA 即将超时工单', warning.tickets.length, warning.tickets.length ? 'warn' : ''),
      card('SLA 已超时工单', breached.tickets.length, breached.tickets.length ? 'bad' : '')),
    el('h3', {}, 'SLA 达成率'),
    el('table', {}, el('thead', {}, el('tr', {}, ['指标', '优先级', '已计量', '达成', '进行中', '达成率'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 6, class: 'empty' }, '暂无数据')))),
    el('p', {}, `首次响应 p50 ${minutes(pct.first_response.p50_minutes)}，p90 ${minutes(pct.first_response.p90_minutes)}；`,
      `解决 p50 ${minutes(pct.resolution.p50_minutes)}，p90 ${minutes(pct.resolution.p90_minutes)}（工作时间）`)));
}

// ---- start ----

function start() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const user = sessionStorage.getItem(USER_KEY);
  if (!token || !user) {
    renderLogin();
    return;
  }
  state.user = JSON.parse(user);
  renderShell();
  if (state.timer) clearInterval(state.timer);
  state.timer = setInterval(() => {
    // Do not redraw under an agent who is typing a reply.
    const active = document.activeElement;
    if (active && (active.tagName === 'TEXTAREA' || active.tagName === 'INPUT')) return;
    refresh();
  }, REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', start);
