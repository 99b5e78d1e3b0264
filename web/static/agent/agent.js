/*
 * 12345 agent console: login, live handoff queue (sorted, filtered, with an alert for new tickets:
 * title, optional sound, desktop notification), takeover (claim / reply / release / close), suggested
 * answers and phone assist. Talks only to this origin's JSON API; builds the DOM with
 * textContent only (never innerHTML), so nothing a citizen types can run here. The names of statuses,
 * reasons and roles come from GET /api/schema/labels (lib/labels.js).
 */
import { api, errorText } from '../lib/api.js';
import { loginForm, logout, onExpired, restore } from '../lib/auth.js';
import { $, el } from '../lib/dom.js';
import { addOptions, label, loadLabels } from '../lib/labels.js';

const POLL_MS = 2000;
const ASSIST_DEBOUNCE_MS = 150;
const TICKET_ROLES = ['agent', 'admin'];
const MESSAGE_ROLES = ['user', 'bot', 'agent', 'system'];
const CANCELLED = 'cancelled'; // the resolution of a ticket the citizen withdrew (not an agent's choice)

const TITLE = document.title;
const SOUND_KEY = 'banshi-agent-sound';
const SORT_KEY = 'banshi-agent-sort';
const FILTERS = {
  all: () => true,
  waiting: (t) => t.status === 'waiting',
  mine: (t) => t.status === 'active' && !!state.me && t.claimed_by === state.me.username,
  'left-message': (t) => t.status === 'left-message',
  overdue: (t) => !!t.over_sla,
};
const FILTER_EMPTY = {
  all: '暂无工单。',
  waiting: '没有排队中的市民。',
  mine: '您当前没有处理中的会话。',
  'left-message': '没有待回电的留言。',
  overdue: '没有超时的工单。',
};

const state = {
  me: null,
  filter: 'all',
  sort: 'newest',
  tickets: [],
  known: null, // ids of tickets seen in the queue (null until the first poll)
  unseen: new Set(), // new tickets the agent has not opened yet
  audio: null,
  sla: 180,
  selected: null, // ticket id
  ticket: null, // the selected ticket's detail
  historyKeys: new Set(),
  lastCitizenKey: '', // the last citizen message seen: suggestions follow it
  queueTimer: 0,
  ticketTimer: 0,
  assistTimer: 0,
  assistSeq: 0,
  assistAbort: null,
  busy: false,
};

/* ------------------------------------------------------------------ helpers */

/** Same-origin relative paths only (guide links come from the server). */
function safePath(url) {
  return typeof url === 'string' && /^\/[A-Za-z0-9/_.-]*$/.test(url) ? url : null;
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return `${h ? `${h}:${pad(m)}` : pad(m)}:${pad(s % 60)}`;
}

function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString('zh-CN', { hour12: false });
}

let noticeTimer = 0;
function notice(text) {
  const n = $('notice');
  n.textContent = text;
  n.hidden = !text;
  clearTimeout(noticeTimer);
  if (text)
    noticeTimer = setTimeout(() => {
      n.hidden = true;
    }, 6000);
}

function reason(code) {
  return label('handoff_reasons', code);
}

/* ------------------------------------------------------------------ login */

function showLogin(message) {
  state.me = null;
  $('console').hidden = true;
  $('whoami').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message || '';
  $('login-password').value = '';
  $('login-username').focus();
}

async function startConsole(session) {
  await labelsReady;
  state.me = session.user;
  $('login-view').hidden = true;
  $('whoami').hidden = false;
  $('whoami-name').textContent = `${session.user.username}（${session.user.role_title}）`;
  if (TICKET_ROLES.indexOf(session.user.role) < 0) {
    $('console').hidden = true;
    notice(`当前账号（${session.user.role_title}）没有坐席权限，请使用坐席账号登录。`);
    return;
  }
  $('console').hidden = false;
  desktopState();
  pollQueue();
}

function stopConsole() {
  clearTimeout(state.queueTimer);
  clearTimeout(state.ticketTimer);
  state.selected = null;
  state.ticket = null;
  state.known = null;
  state.unseen.clear();
  updateTitle();
}

loginForm(startConsole);
onExpired((message) => {
  stopConsole();
  showLogin(message);
});

$('logout').addEventListener('click', async () => {
  await logout();
  notice('');
  stopConsole();
  closeTicketView();
  showLogin('');
});

/* ------------------------------------------------------------------ queue */

async function pollQueue() {
  clearTimeout(state.queueTimer);
  if (!state.me) return;
  const res = await api('GET', '/api/handoffs');
  if (!state.me) return;
  if (res.ok && res.data) renderQueue(res.data);
  state.queueTimer = setTimeout(pollQueue, POLL_MS);
}

function ticketButton(t) {
  const classes = ['ticket', `status-${t.status}`];
  if (t.over_sla) classes.push('over-sla');
  if (t.id === state.selected) classes.push('selected');
  const fresh = state.unseen.has(t.id);
  if (fresh) classes.push('is-new');
  const mine = t.status === 'active' && state.me && t.claimed_by === state.me.username;
  const who = t.status === 'active' ? (mine ? '由我处理' : `由 ${t.claimed_by} 处理`) : t.status_title;
  const service = t.current_service_title || t.current_service || '未识别事项';
  return el(
    'button',
    {
      type: 'button',
      className: classes.join(' '),
      'data-id': t.id,
      'aria-pressed': t.id === state.selected ? 'true' : 'false',
      onclick: () => {
        selectTicket(t.id);
      },
    },
    [
      el('span', { className: 'ticket-line' }, [
        el('span', { className: 'ticket-id' }, [
          `#${t.id}`,
          fresh ? el('span', { className: 'badge badge-new', text: '新' }) : null,
        ]),
        el('span', {
          className: 'wait',
          text: (t.status === 'active' ? '已等 ' : '等待 ') + duration(t.waiting_seconds),
        }),
      ]),
      el('span', { className: 'ticket-line' }, [
        el('span', { text: reason(t.reason) }),
        t.over_sla
          ? el('span', { className: 'badge badge-sla', text: '超时' })
          : el('span', { className: 'badge', text: who }),
      ]),
      el('span', { className: 'ticket-sub', text: service + (t.callback_phone ? ` · 回拨 ${t.callback_phone}` : '') }),
      t.left_message ? el('span', { className: 'ticket-note', text: `留言：${t.left_message}` }) : null,
    ],
  );
}

function created(t) {
  return new Date(t.created_at).getTime() || 0;
}

function ordered(tickets) {
  const newest = state.sort !== 'oldest';
  return tickets.slice().sort((a, b) => {
    const d = created(a) - created(b) || a.id - b.id;
    return newest ? -d : d;
  });
}

function renderQueue(data) {
  state.sla = data.sla_seconds || state.sla;
  state.tickets = data.data;
  noticeNew(data.data);
  $('queue-sla').textContent =
    '排队超过 ' +
    Math.round(state.sla / 60) +
    ' 分钟标红' +
    (state.sort === 'oldest' ? '（等得最久的在最上面）' : '（最新的在最上面）');
  $('queue-count').textContent = `（${data.count}）`;
  document.querySelectorAll('#queue-filters .chip').forEach((chip) => {
    const f = chip.getAttribute('data-filter');
    chip.querySelector('.chip-count').textContent = String(data.data.filter(FILTERS[f]).length);
    chip.setAttribute('aria-pressed', f === state.filter ? 'true' : 'false');
  });
  const shown = ordered(data.data.filter(FILTERS[state.filter]));
  const focused = document.activeElement?.classList.contains('ticket')
    ? document.activeElement.getAttribute('data-id')
    : null;
  const list = $('queue');
  list.replaceChildren.apply(
    list,
    shown.map((t) => el('li', {}, [ticketButton(t)])),
  );
  $('queue-empty').textContent = FILTER_EMPTY[state.filter];
  $('queue-empty').hidden = shown.length > 0;
  if (focused) {
    const again = list.querySelector(`.ticket[data-id="${focused}"]`);
    if (again) again.focus();
  }
}

/* ------------------------------------------------------------------ new-ticket alert */

function noticeNew(tickets) {
  const ids = new Set(tickets.map((t) => t.id));
  const first = state.known === null;
  const arrived = first
    ? []
    : tickets.filter((t) => !state.known.has(t.id) && (t.status === 'waiting' || t.status === 'left-message'));
  state.known = ids;
  state.unseen.forEach((id) => {
    if (!ids.has(id)) state.unseen.delete(id);
  });
  arrived.forEach((t) => {
    state.unseen.add(t.id);
  });
  if (arrived.length) alertNew(arrived);
  updateTitle();
}

function updateTitle() {
  const n = state.unseen.size;
  document.title = n ? `（${n}）新工单 · ${TITLE}` : TITLE;
}

function alertNew(arrived) {
  const t = arrived[arrived.length - 1];
  const what = `${reason(t.reason)} · ${t.current_service_title || '未识别事项'}`;
  $('queue-announce').textContent = `新工单 #${t.id}：${what}`;
  if ($('alert-sound').checked) beep();
  if ('Notification' in window && Notification.permission === 'granted' && !document.hasFocus()) {
    try {
      const n = new Notification(`新工单 #${t.id}${arrived.length > 1 ? ` 等 ${arrived.length} 个` : ''}`, {
        body: what + (t.left_message ? `\n留言：${t.left_message}` : ''),
        tag: `banshi-ticket-${t.id}`,
      });
      n.onclick = () => {
        window.focus();
        selectTicket(t.id);
        n.close();
      };
    } catch (_e) {
      /* notifications unavailable (e.g. some mobile browsers) */
    }
  }
}

function beep() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    state.audio = state.audio || new Ctx();
    const ctx = state.audio;
    [0, 0.25].forEach((at) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, ctx.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + at + 0.2);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(ctx.currentTime + at);
      osc.stop(ctx.currentTime + at + 0.2);
    });
  } catch (_e) {
    /* no audio output */
  }
}

function desktopState() {
  const button = $('alert-desktop');
  const status = $('alert-desktop-state');
  if (!('Notification' in window)) {
    button.hidden = true;
    status.textContent = '此浏览器不支持桌面通知';
    return;
  }
  button.hidden = Notification.permission !== 'default';
  status.textContent =
    Notification.permission === 'granted'
      ? '桌面通知已开启'
      : Notification.permission === 'denied'
        ? '桌面通知已被浏览器阻止（可在网站设置中允许）'
        : '';
}

$('alert-desktop').addEventListener('click', () => {
  if (!('Notification' in window)) return;
  const asked = Notification.requestPermission(desktopState);
  if (asked?.then) asked.then(desktopState);
});

$('alert-sound').checked = localStorage.getItem(SOUND_KEY) === '1';
$('alert-sound').addEventListener('change', () => {
  localStorage.setItem(SOUND_KEY, $('alert-sound').checked ? '1' : '0');
  if ($('alert-sound').checked) beep(); // a user gesture: lets the browser play later alerts
});

state.sort = localStorage.getItem(SORT_KEY) === 'oldest' ? 'oldest' : 'newest';
$('queue-sort').value = state.sort;
$('queue-sort').addEventListener('change', () => {
  state.sort = $('queue-sort').value;
  localStorage.setItem(SORT_KEY, state.sort);
  renderQueue({ data: state.tickets, count: state.tickets.length, sla_seconds: state.sla });
});

document.querySelectorAll('#queue-filters .chip').forEach((chip) => {
  chip.addEventListener('click', () => {
    state.filter = chip.getAttribute('data-filter');
    renderQueue({ data: state.tickets, count: state.tickets.length, sla_seconds: state.sla });
  });
});

/* ------------------------------------------------------------------ work area tabs */

function showWork(name) {
  const ticket = name === 'ticket';
  $('tab-ticket').setAttribute('aria-selected', ticket ? 'true' : 'false');
  $('tab-phone').setAttribute('aria-selected', ticket ? 'false' : 'true');
  $('tab-ticket').tabIndex = ticket ? 0 : -1;
  $('tab-phone').tabIndex = ticket ? -1 : 0;
  $('ticket-panel').hidden = !ticket;
  $('phone-panel').hidden = ticket;
}

$('tab-ticket').addEventListener('click', () => {
  showWork('ticket');
});
$('tab-phone').addEventListener('click', () => {
  showWork('phone');
  $('assist-input').focus();
});
document.querySelector('.work-tabs').addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
  const next = $('tab-ticket').getAttribute('aria-selected') === 'true' ? 'tab-phone' : 'tab-ticket';
  $(next).click();
  $(next).focus();
});

/* ------------------------------------------------------------------ ticket */

function closeTicketView() {
  $('ticket-view').hidden = true;
  $('ticket-empty').hidden = false;
  $('suggestions').replaceChildren(el('p', { className: 'empty', text: '选择工单后显示。' }));
  $('suggest-refresh').hidden = true;
}

function selectTicket(id) {
  if (state.selected !== id) {
    state.selected = id;
    state.ticket = null;
    state.historyKeys = new Set();
    state.lastCitizenKey = '';
    $('history').replaceChildren();
    $('ticket-meta').replaceChildren();
    $('ticket-title').textContent = `会话 #${id}`;
    $('reply').value = '';
    $('ticket-error').textContent = '';
    $('suggestions').replaceChildren();
    ['claim', 'release', 'close', 'send'].forEach((b) => {
      $(b).disabled = true;
    });
  }
  document.querySelectorAll('.ticket').forEach((b) => {
    const on = Number(b.getAttribute('data-id')) === id;
    b.classList.toggle('selected', on);
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
  });
  $('ticket-empty').hidden = true;
  $('ticket-view').hidden = false;
  if (state.unseen.delete(id)) {
    updateTitle();
    const b = document.querySelector(`.ticket[data-id="${id}"]`);
    if (b) {
      b.classList.remove('is-new');
      const nb = b.querySelector('.badge-new');
      if (nb) nb.remove();
    }
  }
  showWork('ticket');
  // one column (narrow screens): bring the conversation into view
  if (window.matchMedia('(max-width: 1100px)').matches) $('ticket-panel').scrollIntoView({ block: 'start' });
  pollTicket();
}

async function pollTicket() {
  clearTimeout(state.ticketTimer);
  const id = state.selected;
  if (!id || !state.me) return;
  const res = await api('GET', `/api/handoffs/${id}`);
  if (state.selected !== id || !state.me) return;
  if (res.ok) renderTicket(res.data);
  else if (res.status === 404) {
    notice(errorText(res, '工单不存在。'));
    closeTicketView();
    state.selected = null;
    return;
  }
  state.ticketTimer = setTimeout(pollTicket, POLL_MS);
}

function holds(t) {
  return !!(t && t.status === 'active' && state.me && t.claimed_by === state.me.username);
}

function canEnd(t) {
  return !!(
    t &&
    t.status === 'active' &&
    state.me &&
    (t.claimed_by === state.me.username || state.me.role === 'admin')
  );
}

function metaRow(term, value) {
  if (value === null || value === undefined || value === '') return [];
  return [el('dt', { text: term }), el('dd', {}, [value])];
}

/** What the citizen told the assistant, as they saw it (question：chosen option). */
function filledList(filled) {
  if (!filled?.length) return null;
  return el(
    'ul',
    { className: 'filled' },
    filled.map((f) =>
      el('li', {}, [el('span', { className: 'filled-q', text: f.label }), '：', el('strong', { text: f.value })]),
    ),
  );
}

function resolutionTitle(value) {
  return value ? label('resolutions', value) : '';
}

function renderTicket(t) {
  state.ticket = t;
  $('ticket-title').textContent = `会话 #${t.id} · ${t.status_title}`;
  const candidates = (t.candidates || [])
    .map((c) => (c && typeof c === 'object' ? c.title || c.id : String(c)))
    .filter(Boolean)
    .join('、');
  let phone = null;
  if (t.callback_phone_full) {
    phone = el('a', { href: `tel:${t.callback_phone_full.replace(/[^0-9+]/g, '')}`, text: t.callback_phone_full });
  } else if (t.callback_phone) {
    phone = `${t.callback_phone}（接入后显示完整号码）`;
  }
  const meta = [].concat(
    metaRow('状态', t.status_title + (t.claimed_by ? `（${t.claimed_by}）` : '')),
    metaRow('转人工原因', reason(t.reason)),
    metaRow('当前事项', t.current_service_title || t.current_service || '未识别'),
    metaRow('留言内容', t.left_message ? el('span', { className: 'left-message', text: t.left_message }) : null),
    metaRow('已填信息', filledList(t.filled)),
    metaRow('候选事项', candidates),
    metaRow('等待时间', duration(t.waiting_seconds) + (t.over_sla ? '（已超时）' : '')),
    metaRow('回拨电话', phone),
    metaRow('结束原因', resolutionTitle(t.resolution)),
  );
  $('ticket-meta').replaceChildren.apply($('ticket-meta'), meta);

  const mine = holds(t);
  $('claim').disabled = state.busy || !(t.status === 'waiting' || t.status === 'left-message');
  $('release').disabled = state.busy || !canEnd(t);
  $('close').disabled = state.busy || !canEnd(t);
  $('resolution').disabled = !canEnd(t);
  $('reply').disabled = !mine;
  $('send').disabled = state.busy || !mine;
  $('reply').placeholder = mine
    ? ''
    : t.status === 'active'
      ? `该会话由 ${t.claimed_by} 处理`
      : t.status === 'closed'
        ? '会话已结束'
        : '接入后才能回复';
  document.querySelectorAll('.suggestion-send').forEach((b) => {
    b.disabled = !mine;
  });

  renderHistory(t.history || []);
}

function renderHistory(items) {
  const log = $('history');
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  let citizenKey = state.lastCitizenKey;
  items.forEach((m, i) => {
    const key = m.id === null || m.id === undefined ? `t${i}` : `m${m.id}`;
    if (m.role === 'user') citizenKey = key;
    if (state.historyKeys.has(key)) return;
    state.historyKeys.add(key);
    const role = MESSAGE_ROLES.indexOf(m.role) >= 0 ? m.role : 'system';
    const who =
      label('message_roles', role) +
      (m.role === 'agent' && m.agent ? ` ${m.agent}` : '') +
      (m.at ? ` ${clock(m.at)}` : '（转接前）');
    log.appendChild(
      el(
        'li',
        {
          className: `msg msg-${role}${m.id === null || m.id === undefined ? ' msg-handover' : ''}`,
          'data-key': key,
        },
        [el('span', { className: 'msg-who', text: who }), m.text || ''],
      ),
    );
  });
  if (nearBottom) log.scrollTop = log.scrollHeight;
  if (citizenKey !== state.lastCitizenKey) {
    state.lastCitizenKey = citizenKey;
    loadSuggestions(false);
  }
}

async function ticketAction(path, body, done) {
  const id = state.selected;
  if (!id || state.busy) return;
  state.busy = true;
  $('ticket-error').textContent = '';
  const res = await api('POST', `/api/handoffs/${id}${path}`, body);
  state.busy = false;
  if (!res.ok) {
    $('ticket-error').textContent = errorText(res, '操作没有成功，请重试。');
  } else if (done) {
    done(res.data);
  }
  pollTicket();
  pollQueue();
  return res;
}

$('claim').addEventListener('click', () => {
  ticketAction('/claim', undefined, () => {
    notice(`已接入工单 #${state.selected}，市民会看到您已接入。`);
    $('reply').disabled = false;
    $('reply').focus();
  });
});

$('release').addEventListener('click', () => {
  ticketAction('/release', undefined, () => {
    notice('工单已退回队列。');
  });
});

$('close').addEventListener('click', () => {
  const resolution = $('resolution').value;
  ticketAction('/close', { resolution: resolution }, (data) => {
    notice(
      data.bot_resumed
        ? '会话已结束，智能助手将继续为市民服务。'
        : '会话已结束，但智能助手暂未恢复（对话服务不可用），请联系管理员。',
    );
  });
});

async function sendText(text, onSent) {
  const clean = (text || '').trim();
  if (!clean) return;
  await ticketAction('/messages', { text: clean }, onSent);
}

$('reply-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sendText($('reply').value, () => {
    $('reply').value = '';
    $('reply').focus();
  });
});

$('reply').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    $('reply-form').requestSubmit();
  }
});

/* ------------------------------------------------------------------ suggestions */

function situationList(situations) {
  if (!situations?.length) return null;
  return el('div', {}, [
    el('p', { className: 'situations-title', text: '需要问清的情形：' }),
    el(
      'ol',
      { className: 'situations' },
      situations.map((s) => el('li', { text: s.question + (s.options?.length ? `（${s.options.join(' / ')}）` : '') })),
    ),
  ]);
}

function guideLink(url) {
  const href = safePath(url);
  return href ? el('a', { href: href, target: '_blank', rel: 'noopener', text: '打开办事指南' }) : null;
}

function scoreTag(s) {
  return s.score > 0 ? el('span', { className: 'score', text: `匹配度 ${Math.round(s.score * 100)}%` }) : null;
}

function suggestionCard(s, i) {
  const uid = `suggestion-${i}`;
  const text = el('textarea', { id: `${uid}-text`, className: 'suggestion-text', rows: '6' });
  text.value = s.text;
  text.addEventListener('input', () => {
    text.setAttribute('data-dirty', '1');
  });
  const send = el('button', {
    type: 'button',
    className: 'btn btn-primary suggestion-send',
    text: '发送',
    onclick: () => {
      sendText(text.value, () => {
        notice(`已发送“${s.title}”的一次性告知。`);
      });
    },
  });
  send.disabled = !holds(state.ticket);
  return el('article', { className: `suggestion${s.current ? ' suggestion-current' : ''}`, 'data-entry': s.id }, [
    el('h3', {}, [
      s.title,
      s.current ? el('span', { className: 'badge badge-current', text: '对话中的事项' }) : null,
      scoreTag(s),
    ]),
    s.basis ? el('p', { className: 'basis', text: s.basis }) : null,
    el('label', { for: `${uid}-text`, text: '一次性告知（可修改后发送）' }),
    text,
    el('div', { className: 'suggestion-actions' }, [guideLink(s.guide_url), send]),
    el('details', {}, [el('summary', { text: '电话朗读版' }), el('p', { className: 'speech', text: s.speech })]),
    situationList(s.situations),
  ]);
}

async function loadSuggestions(force) {
  const id = state.selected;
  if (!id) return;
  const box = $('suggestions');
  if (!force && box.querySelector('.suggestion-text[data-dirty]')) {
    $('suggest-refresh').hidden = false; // the agent is editing: do not overwrite
    return;
  }
  const res = await api('GET', `/api/handoffs/${id}/suggestions`);
  if (state.selected !== id || !res.ok) return;
  $('suggest-refresh').hidden = true;
  const results = res.data.results || [];
  box.replaceChildren.apply(
    box,
    results.length
      ? results.map(suggestionCard)
      : [el('p', { className: 'empty', text: '没有与这次对话明显相关的办事指南，可用“电话辅助”按市民所说查找。' })],
  );
}

$('suggest-refresh').addEventListener('click', () => {
  loadSuggestions(true);
});

/* ------------------------------------------------------------------ phone assist */

function assistCard(s) {
  return el('article', { className: 'assist-result', 'data-entry': s.id }, [
    el('h3', {}, [s.title, scoreTag(s)]),
    el('p', { className: 'speech', text: s.speech }),
    situationList(s.situations),
    el('details', {}, [el('summary', { text: '一次性告知全文' }), el('p', { className: 'fulltext', text: s.text })]),
    guideLink(s.guide_url),
  ]);
}

async function runAssist(text) {
  const seq = ++state.assistSeq;
  if (state.assistAbort) state.assistAbort.abort();
  const box = $('assist-results');
  if (!text) {
    box.replaceChildren();
    return;
  }
  const ctrl = new AbortController();
  state.assistAbort = ctrl;
  let res;
  try {
    res = await api('POST', '/api/assist', { text: text }, { signal: ctrl.signal });
  } catch (_e) {
    return; // superseded by a newer keystroke
  }
  if (seq !== state.assistSeq) return;
  if (!res.ok) {
    box.replaceChildren(el('p', { className: 'error', text: errorText(res, '查询失败，请重试。') }));
    return;
  }
  const results = res.data.results || [];
  box.replaceChildren.apply(
    box,
    results.length ? results.map(assistCard) : [el('p', { className: 'empty', text: '没有找到相关的办事指南。' })],
  );
}

$('assist-input').addEventListener('input', () => {
  clearTimeout(state.assistTimer);
  const text = $('assist-input').value.trim();
  state.assistTimer = setTimeout(() => {
    runAssist(text);
  }, ASSIST_DEBOUNCE_MS);
});

/* ------------------------------------------------------------------ start */

// the names of reasons, statuses and resolutions, before the console shows a ticket
const labelsReady = loadLabels().then(() => {
  addOptions($('resolution'), 'resolutions', [CANCELLED]);
});

restore().then((session) => {
  if (session) startConsole(session);
  else showLogin('');
});
