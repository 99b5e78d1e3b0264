/*
 * 办事e点通 — citizen chat widget of 岳阳市行政审批服务局: the source of web/static/widget.js.
 *
 * Third-party pages embed the one script web/static/widget.js, bundled from these modules and
 * lib/dom.js and lib/api.js by `node scripts/build-widget.mjs` (a test checks the bundle is current).
 * Embedded with one tag: <script src="/static/widget.js" defer></script>
 * A county 分站点 embeds it with its site id: <script src="/static/widget.js" data-site="pingjiang" defer>
 * (location and phone answers and the 办事攻略 catalogue are then that site's).
 * The script injects its stylesheet (widget.css next to the script) and its DOM.
 *
 * SAFETY: message and knowledge content is untrusted. The DOM is built with
 * createElement/textContent only (never innerHTML), and links are limited to
 * http(s) and tel (links.js).
 */
import { api, detail } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { link, richText, telLink } from './links.js';
import { remember, remembered, store } from './storage.js';

/* ------------------------------------------------------------ constants */

const SCRIPT = document.currentScript;
const STATIC_BASE = SCRIPT?.src ? new URL('.', SCRIPT.src).href : '/static/';
let HOTLINE = '12345'; // until /api/config answers (the bureau's HOTLINE setting)
const POLL_MS = 2000;
const BACKOFF_MIN = 1000;
const BACKOFF_MAX = 30000;
let MAX_CHARS = 500; // likewise (MAX_MESSAGE_CHARS)
const BURST_MS = 4000; // messages arriving this close together are read as one reply
const POPULAR = [
  '企业开办怎么办理',
  '新生儿出生要办什么',
  '公租房谁能申请',
  '身份证丢了怎么补办',
  '公积金怎么提取',
  '政务服务中心在哪里',
];
const RATINGS = [
  [5, '非常满意'],
  [4, '满意'],
  [3, '一般'],
  [2, '不满意'],
  [1, '非常不满意'],
];
const COLLAPSED_SECTIONS = ['bundled_matters', 'legal_basis'];
const KEYS = {
  sender: 'banshi_conversation',
  big: 'banshi_bigfont',
  titles: 'banshi_titles',
  feedback: 'banshi_feedback',
  callback: 'banshi_callback',
  site: 'banshi_site',
};
const OLD_KEYS = ['banshi_sender']; // client-chosen ids of earlier versions: never sent again
const SITE_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/* ---------------------------------------------------------------- state */

const state = {
  sender: '', // the conversation id the server issued (see ensureConversation)
  starting: null, // promise of POST /api/chat/conversations in flight
  seen: new Set(), // ids of server messages already rendered
  lastId: 0, // highest message id seen (cursor for catch-up)
  pending: [], // local user bubbles not yet echoed back by the server
  busy: false, // a POST /api/chat is in flight
  handoff: false, // an open ticket (waiting/active)
  agent: '',
  open: false,
  historyReady: null, // promise of the first history fetch
  historyLoaded: false, // later messages count as new (unread badge, rating offer)
  bannerKind: '', // waiting / active / offline / closed
  catchingUp: null,
  catchUpAgain: false,
  matCounter: 0,
  greeted: false,
  es: null,
  sseOpen: false,
  sseDisabled: false,
  sseEverOpened: false,
  sseFailures: 0,
  backoff: BACKOFF_MIN,
  reconnectTimer: 0,
  pollTimer: 0,
  unread: 0,
  lastFocus: null,
  burst: null,
  burstAt: 0, // first message of the reply being shown (see reveal)
  site: '', // the 分站点: the embed tag's data-site, else the citizen's choice
  siteFixed: false, // set by the embed tag: never asked
  catalogue: null,
  catalogueView: 'life_event',
};
const ui = {};

/* -------------------------------------------------------------- helpers */

/**
 * The conversation id: issued by the server (POST /api/chat/conversations), which binds it to this
 * browser with an HttpOnly cookie; requests for it without that cookie get 403, and after it ended
 * or idled out 410. Resolves to the id ('' when the server could not be reached).
 */
function ensureConversation() {
  if (state.sender) return Promise.resolve(state.sender);
  const kept = store.get(KEYS.sender);
  if (kept && /^[A-Za-z0-9_.:@-]{1,120}$/.test(kept)) {
    state.sender = kept;
    return Promise.resolve(kept);
  }
  if (state.starting) return state.starting;
  state.starting = api('POST', '/api/chat/conversations', {}).then(
    (res) => {
      state.starting = null;
      if (!res.ok || !res.data.sender_id) return '';
      state.sender = String(res.data.sender_id);
      store.set(KEYS.sender, state.sender);
      return state.sender;
    },
    () => {
      state.starting = null;
      return '';
    },
  );
  return state.starting;
}

/** The conversation is gone for this browser (403/410): forget it, start a new one. */
function conversationLost(res) {
  return res && (res.status === 403 || res.status === 410);
}

/** Forget the conversation here: local history, remembered choices, stream, banners. */
function forgetConversation() {
  [KEYS.sender, KEYS.titles, KEYS.feedback, KEYS.callback].forEach((k) => {
    try {
      window.localStorage.removeItem(k);
    } catch (_e) {
      /* private mode */
    }
  });
  if (state.es) {
    state.es.close();
    state.es = null;
  }
  clearTimeout(state.reconnectTimer);
  clearTimeout(state.pollTimer);
  Object.assign(state, {
    sender: '',
    seen: new Set(),
    lastId: 0,
    pending: [],
    handoff: false,
    agent: '',
    bannerKind: '',
    greeted: false,
    sseOpen: false,
    sseFailures: 0,
    backoff: BACKOFF_MIN,
    reconnectTimer: 0,
    pollTimer: 0,
    burst: null,
    burstAt: 0,
  });
  stopSpeaking();
  ui.log.textContent = '';
  ui.handoff.hidden = true;
  ui.handoff.textContent = '';
  setUnread(0);
}

/** 结束并清除对话: end the conversation on the server, clear it here and start a new one. */
function endConversation() {
  if (state.busy) return;
  const old = state.sender;
  const done = old ? api('DELETE', `/api/chat/${encodeURIComponent(old)}`).catch(() => null) : Promise.resolve(null);
  done
    .then(() => {
      forgetConversation();
      systemNotice('对话已结束，记录已从本机清除。', 'banshi-notice');
      return ensureConversation();
    })
    .then(() => {
      if (state.open) {
        greet();
        startStream();
        ui.input.focus();
      }
    });
}

/* ------------------------------------------------------------------ API */

const chatPath = (suffix) => `/api/chat/${encodeURIComponent(state.sender)}${suffix}`;

/* ------------------------------------------------------------ the frame */

function injectStyles() {
  const css = el('link', { rel: 'stylesheet', href: `${STATIC_BASE}widget.css` });
  const reveal = () => {
    ui.root.style.visibility = '';
  };
  css.addEventListener('load', reveal);
  css.addEventListener('error', reveal);
  document.head.appendChild(css);
  setTimeout(reveal, 3000);
}

function buildLauncher() {
  ui.badge = el('span', { className: 'banshi-badge', 'aria-hidden': 'true', hidden: true });
  ui.launcher = el(
    'button',
    {
      id: 'banshi-launcher',
      type: 'button',
      className: 'banshi-launcher',
      'aria-controls': 'banshi-panel',
      'aria-expanded': 'false',
      'aria-label': '办事咨询：打开智能咨询窗口',
      onclick: () => {
        togglePanel();
      },
    },
    [el('span', { className: 'banshi-launcher-icon', 'aria-hidden': 'true' }), '办事咨询', ui.badge],
  );
  return ui.launcher;
}

function buildHeader() {
  ui.bigfont = el(
    'button',
    {
      id: 'banshi-bigfont',
      type: 'button',
      className: 'banshi-tool',
      'aria-pressed': 'false',
      title: '切换大字模式',
      onclick: toggleBigFont,
    },
    [el('span', { 'aria-hidden': 'true', text: 'A+ ' }), '大字'],
  );
  const close = el(
    'button',
    {
      type: 'button',
      className: 'banshi-tool banshi-close',
      'aria-label': '关闭咨询窗口',
      title: '关闭（Esc）',
      onclick: () => {
        closePanel();
      },
    },
    [el('span', { 'aria-hidden': 'true', text: '×' })],
  );
  const clear = el(
    'button',
    {
      id: 'banshi-clear',
      type: 'button',
      className: 'banshi-tool banshi-clear',
      title: '结束本次对话，并清除本机上的对话记录',
      onclick: endConversation,
    },
    ['结束并清除对话'],
  );
  return el('header', { className: 'banshi-head' }, [
    el('div', { className: 'banshi-brand' }, [
      el('h2', { id: 'banshi-title', className: 'banshi-title', text: '办事e点通' }),
      el('p', { className: 'banshi-subtitle', text: '岳阳市政务服务智能咨询' }),
    ]),
    el('div', { className: 'banshi-tools' }, [ui.bigfont, clear, close]),
  ]);
}

function buildComposer() {
  ui.input = el('textarea', {
    id: 'banshi-input',
    className: 'banshi-input',
    rows: '2',
    'aria-describedby': 'banshi-hint',
    onkeydown: onInputKey,
  });
  // the example does not fit on one line of a phone: a short prompt there
  const phone = window.matchMedia ? window.matchMedia('(max-width: 479.98px)') : null;
  const placeholder = () => {
    ui.input.placeholder = phone?.matches ? '请输入您要办的事' : '请输入您要办的事，如：身份证丢了怎么补办';
  };
  placeholder();
  if (phone?.addEventListener) phone.addEventListener('change', placeholder);
  ui.send = el('button', { id: 'banshi-send', type: 'submit', className: 'banshi-btn banshi-primary', text: '发送' });
  ui.human = el(
    'button',
    {
      id: 'banshi-human',
      type: 'button',
      className: 'banshi-btn banshi-secondary',
      'aria-label': '转人工客服',
      onclick: () => {
        send('转人工', '转人工');
      },
    },
    ['转人工'],
  );
  return el(
    'form',
    {
      className: 'banshi-composer',
      onsubmit: (e) => {
        e.preventDefault();
        sendInput();
      },
    },
    [
      el('label', { className: 'banshi-sr', for: 'banshi-input', text: '输入您的问题' }),
      ui.input,
      el('p', {
        id: 'banshi-hint',
        className: 'banshi-sr',
        text: '按回车发送，Shift加回车换行。请勿输入身份证号、银行卡号等个人敏感信息。',
      }),
      el('div', { className: 'banshi-actions' }, [ui.human, ui.send]),
    ],
  );
}

function buildFooter() {
  return el('footer', { className: 'banshi-foot' }, [
    el('button', {
      type: 'button',
      className: 'banshi-linkbtn banshi-rate-link',
      text: '评价本次服务',
      onclick: openRating,
    }),
    el('span', { className: 'banshi-hotline' }, [' · 紧急事项请拨打 ', telLink(HOTLINE, HOTLINE), ' 政务服务便民热线']),
  ]);
}

function buildPanel() {
  ui.handoff = el('div', { id: 'banshi-handoff', className: 'banshi-handoff', role: 'status', hidden: true });
  ui.log = el('div', {
    id: 'banshi-messages',
    className: 'banshi-messages',
    role: 'log',
    'aria-live': 'polite',
    'aria-relevant': 'additions',
    'aria-label': '对话记录',
    tabindex: '0',
  });
  ui.typing = el('div', { id: 'banshi-typing', className: 'banshi-typing', role: 'status', hidden: true }, [
    el('span', { className: 'banshi-dots', 'aria-hidden': 'true' }, [el('i'), el('i'), el('i')]),
    '智能助手正在回复…',
  ]);
  ui.panel = el(
    'section',
    {
      id: 'banshi-panel',
      className: 'banshi-panel',
      role: 'dialog',
      'aria-modal': 'false',
      'aria-labelledby': 'banshi-title',
      hidden: true,
    },
    [buildHeader(), buildTabs(), ui.handoff, ui.log, ui.typing, buildComposer(), buildCatalogue(), buildFooter()],
  );
  return ui.panel;
}

/* ----------------------------------------------------- open/close/fonts */

function openPanel() {
  if (state.open) return;
  state.open = true;
  ui.panel.hidden = false;
  ui.root.classList.add('banshi-is-open');
  ui.launcher.setAttribute('aria-expanded', 'true');
  setUnread(0);
  startStream();
  state.historyReady.then(() => {
    if (!state.greeted && !ui.log.querySelector('.banshi-msg'))
      greet(); // shown from its top
    else {
      state.burst = null;
      scrollToEnd();
    }
  });
  ui.input.focus();
}

function closePanel() {
  if (!state.open) return;
  closeRating();
  stopSpeaking();
  state.open = false;
  ui.panel.hidden = true;
  ui.root.classList.remove('banshi-is-open');
  ui.launcher.setAttribute('aria-expanded', 'false');
  ui.launcher.focus();
}

function togglePanel() {
  if (state.open) closePanel();
  else openPanel();
}

function applyBigFont(on) {
  ui.panel.classList.toggle('banshi-big', on);
  ui.bigfont.setAttribute('aria-pressed', on ? 'true' : 'false');
}

/** 大字: everything grows, so the old scroll position would land in older history. */
function toggleBigFont() {
  const on = !ui.panel.classList.contains('banshi-big');
  applyBigFont(on);
  store.set(KEYS.big, on ? '1' : '0');
  showLatest();
}

function setUnread(n) {
  state.unread = n;
  ui.badge.hidden = n === 0;
  ui.badge.textContent = n > 9 ? '9+' : String(n);
  ui.launcher.setAttribute('aria-label', n ? `办事咨询：有${n}条新消息，打开咨询窗口` : '办事咨询：打开智能咨询窗口');
}

/** Esc closes the rating dialog first, then the panel (not while an IME is composing). */
function onDocumentKey(e) {
  if (e.key !== 'Escape' || e.isComposing || !state.open) return;
  e.preventDefault();
  if (ui.rating && !ui.rating.hidden) closeRating();
  else closePanel();
}

function onInputKey(e) {
  // Enter sends; Shift+Enter breaks the line; never send while an IME is composing.
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    sendInput();
  }
}

/* ------------------------------------------------------------ rendering */

function scrollToEnd() {
  ui.log.scrollTop = ui.log.scrollHeight;
}

/**
 * A citizen's new message retires the quick replies shown before it: an answered clarifying
 * question or an old card's follow-ups would send a reply out of context. The greeting's popular
 * questions stay usable. Runs for history too, so a reload shows the same state.
 */
function retireQuickReplies() {
  ui.log.querySelectorAll('.banshi-msg:not(.banshi-greeting) .banshi-quick').forEach((b) => {
    b.disabled = true;
  });
}

/** Append one .banshi-msg to the log. role: user/bot/agent/system. */
function addMsg(role, id, children, extraClass) {
  if (role === 'user') retireQuickReplies();
  const labels = { user: '我', bot: '智能助手', agent: '人工客服', system: '系统提示' };
  const msg = el(
    'div',
    {
      className: `banshi-msg banshi-${role}${extraClass ? ` ${extraClass}` : ''}`,
      'data-role': role,
      'data-id': id ? String(id) : null,
    },
    [
      el('span', { className: role === 'agent' ? 'banshi-who' : 'banshi-who banshi-sr', text: `${labels[role]}：` }),
    ].concat(children),
  );
  ui.log.appendChild(msg);
  reveal(msg, role);
  return msg;
}

/**
 * Scroll for a new message. The citizen's own message shows the end. A reply often comes as a
 * burst (card + question + quick replies): it is shown from the top of its first message, so a
 * long answer is read from its title, but never past its newest question or note: what the
 * citizen is asked stays in view (a card is the only message read from its top).
 */
function reveal(msg, role) {
  const now = Date.now();
  if (role === 'user') state.burst = null;
  else if (!state.burst || now - state.burstAt > BURST_MS) {
    state.burst = msg;
    state.burstAt = now;
  }
  if (!state.burst) {
    scrollToEnd();
    return;
  }
  let top = state.burst.offsetTop - 8;
  if (!msg.classList.contains('banshi-has-card')) {
    top = Math.max(top, msg.offsetTop + msg.offsetHeight + 8 - ui.log.clientHeight);
  }
  ui.log.scrollTop = Math.min(top, ui.log.scrollHeight - ui.log.clientHeight);
}

/** The latest message in view (after the text size changed): its end, or its top when taller. */
function showLatest() {
  const last = ui.log.lastElementChild;
  if (!last) return;
  if (last.offsetHeight + 16 > ui.log.clientHeight) ui.log.scrollTop = last.offsetTop - 8;
  else scrollToEnd();
}

function bubble(text) {
  return el('div', { className: 'banshi-bubble' }, [richText(text)]);
}

function systemNotice(text, extraClass) {
  return addMsg('system', null, [el('div', { className: 'banshi-bubble', text: text })], extraClass);
}

/** Quick-reply buttons; each sends `payload` but shows `title` as the user's bubble. */
function quickReplies(buttons) {
  const group = el('div', { className: 'banshi-quick-group', role: 'group', 'aria-label': '可选回复' });
  (buttons || []).forEach((b) => {
    const title = String(b.title || b.payload || '');
    const payload = String(b.payload || b.title || '');
    if (!title) return;
    group.appendChild(
      el('button', {
        type: 'button',
        className: 'banshi-quick',
        text: title,
        onclick: () => {
          send(payload, title);
        },
      }),
    );
  });
  return group;
}

function greet() {
  state.greeted = true;
  addMsg(
    'bot',
    null,
    [
      bubble(
        '您好！我是岳阳市政务服务智能助手「办事e点通」。\n' +
          '我可以告诉您办事要带哪些材料、去哪里办、能不能网上办、多久办好，并为您生成可打印的一次性告知单。' +
          '需要时可随时点击「转人工」联系人工客服。\n请勿输入身份证号、银行卡号等个人敏感信息。',
      ),
      el('p', { className: 'banshi-quick-title', text: '大家都在问：' }),
      quickReplies(POPULAR.map((q) => ({ title: q, payload: q }))),
    ],
    'banshi-greeting',
  );
}

/* ---- cards */

function tag(text, kind) {
  return el('span', { className: `banshi-tag banshi-tag-${kind}`, text: text });
}

/** Materials as a checklist the citizen can tick while preparing. */
function materialsList(items) {
  const ul = el('ul', { className: 'banshi-checklist' });
  items.forEach((it) => {
    state.matCounter += 1;
    const id = `banshi-mat-${state.matCounter}`;
    const tags = [];
    if (it.form) tags.push(tag(it.form, 'form'));
    if (typeof it.copies === 'number' && it.copies > 1) tags.push(tag(`${it.copies}份`, 'form'));
    if (it.conditional) tags.push(tag(it.condition ? `如属${it.condition}` : '视情况提交', 'cond'));
    if (it.waivable) tags.push(tag('可免提交', 'waive'));
    ul.appendChild(
      el('li', {}, [
        el('input', { type: 'checkbox', id: id }),
        el('label', { for: id }, [el('span', { className: 'banshi-mat-name', text: it.name || '' })].concat(tags)),
        it.notes ? el('p', { className: 'banshi-mat-note', text: it.notes }) : null,
      ]),
    );
  });
  return ul;
}

function linesList(lines, ordered) {
  const list = el(ordered ? 'ol' : 'ul', { className: 'banshi-lines' });
  (lines || []).forEach((line) => {
    list.appendChild(el('li', {}, [richText(line)]));
  });
  return list;
}

function cardSection(s, _entryId) {
  const body = [];
  if (s.key === 'materials' && Array.isArray(s.items) && s.items.length) body.push(materialsList(s.items));
  else if (s.lines?.length) body.push(linesList(s.lines, s.key === 'steps'));
  if (s.key === 'location' && s.map_url) body.push(el('p', {}, [link(s.map_url, '查看地图', true)]));
  if (s.key === 'phone' && s.tel) body.push(el('p', {}, [telLink(s.tel, `拨打电话 ${s.tel}`)]));
  if (s.key === 'online' && s.url) body.push(el('p', {}, [link(s.url, '去网上办理', true)]));
  const details = el(
    'details',
    { className: 'banshi-section', 'data-key': s.key || '' },
    [el('summary', { text: s.title || '' })].concat(body),
  );
  details.open = COLLAPSED_SECTIONS.indexOf(s.key) < 0;
  return details;
}

function feedbackRow(m) {
  if (!m.id || !m.entry_id) return null;
  const status = el('span', { className: 'banshi-fb-status', role: 'status' });
  const row = el('div', { className: 'banshi-feedback', role: 'group', 'aria-label': '这个回答对您有帮助吗' }, [
    el('span', { text: '这个回答有帮助吗？' }),
  ]);
  const mk = (useful) =>
    el('button', {
      type: 'button',
      className: `banshi-fb ${useful ? 'banshi-useful' : 'banshi-useless'}`,
      text: useful ? '有用' : '没用',
      'aria-label': useful ? '这个回答有用' : '这个回答没用',
      onclick: () => {
        sendFeedback(m, useful, row, status);
      },
    });
  row.appendChild(mk(true));
  row.appendChild(mk(false));
  row.appendChild(status);
  if (remembered(KEYS.feedback, m.id)) markFeedbackDone(row, status);
  return row;
}

function markFeedbackDone(row, status) {
  row.querySelectorAll('button').forEach((b) => {
    b.disabled = true;
  });
  status.textContent = '感谢您的反馈！';
}

function sendFeedback(m, useful, row, status) {
  row.querySelectorAll('button').forEach((b) => {
    b.disabled = true;
  });
  api('POST', '/api/feedback', { sender_id: state.sender, message_id: m.id, entry_id: m.entry_id, useful: useful })
    .then((res) => {
      if (!res.ok) throw res;
      remember(KEYS.feedback, m.id);
      markFeedbackDone(row, status);
    })
    .catch((res) => {
      row.querySelectorAll('button').forEach((b) => {
        b.disabled = false;
      });
      status.textContent = detail(res, '反馈没有提交成功，请稍后再试。');
    });
}

/**
 * A card shows what the question asked for (m.focus: the materials, the conditions …) and the
 * plan's claims; the rest of the 一次性告知 — summary, the other parts — is one tap away under
 * 查看完整告知. Older cards (no focus) show everything.
 */
function renderCard(m, role) {
  const entryId = String(m.entry_id || '');
  const head = el(
    'div',
    { className: 'banshi-card-head' },
    [el('h3', { className: 'banshi-card-title', text: m.title || '' })].concat(cardBadges(m), [
      m.sample
        ? el('span', { className: 'banshi-sample', text: '示例数据', title: m.review_status || '示例数据，待核实' })
        : null,
      speakButton(m),
    ]),
  );
  const all = Array.isArray(m.sections) ? m.sections : [];
  const focus = Array.isArray(m.focus) ? m.focus : all.map((s) => s.key);
  const lead = all.filter((s) => focus.indexOf(s.key) >= 0);
  const rest = all.filter((s) => focus.indexOf(s.key) < 0);
  const summary = m.summary ? el('p', { className: 'banshi-card-summary', text: m.summary }) : null;
  const sections = lead.map((s) => {
    const d = cardSection(s, entryId);
    d.open = true;
    return d;
  });
  let more = null;
  if (rest.length) {
    const titles = rest.map((s) => s.title || '');
    more = el(
      'details',
      { className: 'banshi-more' },
      [
        el('summary', {
          text: `查看完整告知：${titles.slice(0, 3).join('、')}${titles.length > 3 ? `等${titles.length}项` : ''}`,
        }),
      ].concat(
        [summary],
        rest.map((s) => cardSection(s, entryId)),
      ),
    );
  }
  const answers =
    Array.isArray(m.answers) && m.answers.length
      ? el('p', { className: 'banshi-card-answers', text: `按您的情况：${m.answers.join('；')}` })
      : null;
  const missing =
    Array.isArray(m.missing) && m.missing.length
      ? el('p', {
          className: 'banshi-missing',
          text: `暂未收录：${m.missing.join('、')}，请咨询办事窗口或拨打${HOTLINE}。`,
        })
      : null;
  const review = m.review_status || (m.reviewed_at ? `审核日期：${m.reviewed_at}` : '示例数据，待核实');
  const meta = [`来源：${m.source || '—'}`, review, m.notice || '以窗口最新告知为准'];
  const foot = el('div', { className: 'banshi-card-foot' }, [
    el('p', { className: 'banshi-card-meta', text: meta.join(' · ') }),
    m.guide_url
      ? el('p', {}, [
          link(m.guide_url, m.answers?.length ? '打印/查看按您情况生成的一次性告知单' : '打印/查看一次性告知单', true),
        ])
      : null,
    feedbackRow(m),
  ]);
  const card = el(
    'article',
    {
      className: 'banshi-card',
      'data-entry-id': entryId,
      'data-version': m.version != null ? String(m.version) : null,
      'aria-label': `办事指南：${m.title || ''}`,
    },
    [
      head,
      more ? null : summary,
      cardClaims(m),
      answers,
      m.site_note ? el('p', { className: 'banshi-site-note', text: m.site_note }) : null,
    ].concat(sections, [more, siteChooser(m, entryId), missing, foot]),
  );
  return addMsg(role, m.id, [card], 'banshi-has-card');
}

/* ---- 朗读 (read aloud, 适老化): the browser's own speech synthesis, a Chinese voice only */

const tts = { voice: null, button: null };

/** The browser's zh-CN voice (else another Chinese one); null when it has none. */
function chineseVoice() {
  if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) return null;
  const voices = window.speechSynthesis.getVoices() || [];
  const lang = (v) =>
    String(v.lang || '')
      .replace('_', '-')
      .toLowerCase();
  return (
    voices.filter((v) => lang(v) === 'zh-cn')[0] || voices.filter((v) => /^(zh|cmn)(-|$)/.test(lang(v)))[0] || null
  );
}

/** Show the 朗读 buttons only when there is a Chinese voice (voices load after the page). */
function updateSpeakButtons() {
  tts.voice = chineseVoice();
  ui.log.querySelectorAll('.banshi-speak').forEach((b) => {
    b.hidden = !tts.voice;
  });
  if (!tts.voice && tts.button) stopSpeaking();
}

function speakButton(m) {
  if (typeof m.speech !== 'string' || !m.speech) return null;
  const b = el('button', {
    type: 'button',
    className: 'banshi-btn banshi-secondary banshi-speak',
    'aria-pressed': 'false',
    'aria-label': `朗读：${m.title || ''}`,
    hidden: !tts.voice,
    text: '朗读',
  });
  b.addEventListener('click', () => {
    toggleSpeaking(b, m.speech);
  });
  return b;
}

function stopSpeaking() {
  if (window.speechSynthesis) window.speechSynthesis.cancel();
  if (tts.button) {
    tts.button.setAttribute('aria-pressed', 'false');
    tts.button.textContent = '朗读';
  }
  tts.button = null;
}

/** Read the card's text in sentences (one long utterance is cut off by some browsers). */
function toggleSpeaking(button, text) {
  const again = tts.button === button;
  stopSpeaking();
  if (again || !tts.voice) return;
  tts.button = button;
  button.setAttribute('aria-pressed', 'true');
  button.textContent = '停止朗读';
  const parts = String(text).match(/[^。；！？]+[。；！？]*/g) || [String(text)];
  parts.forEach((part, i) => {
    const u = new window.SpeechSynthesisUtterance(part);
    u.voice = tts.voice;
    u.lang = tts.voice.lang || 'zh-CN';
    u.rate = 0.9; // a little slower than the default, for older listeners
    if (i === parts.length - 1)
      u.onend = () => {
        if (tts.button === button) stopSpeaking();
      };
    u.onerror = () => {
      if (tts.button === button) stopSpeaking();
    };
    window.speechSynthesis.speak(u);
  });
}

function initSpeech() {
  if (!window.speechSynthesis) return;
  updateSpeakButtons();
  if (window.speechSynthesis.addEventListener)
    window.speechSynthesis.addEventListener('voiceschanged', updateSpeakButtons);
}

/* ---- 分站点 (site) and the plan's claims on cards */

function cardBadges(m) {
  return (Array.isArray(m.badges) ? m.badges : []).map((b) => {
    const kind = b === '全省首推' ? 'first' : b.indexOf('试点') === 0 ? 'pilot' : 'tag';
    return el('span', { className: `banshi-badge-${kind} banshi-card-badge`, text: String(b) });
  });
}

/** The bureau document's own claims, each with the document it comes from. */
function cardClaims(m) {
  if (!Array.isArray(m.claims) || !m.claims.length) return null;
  const list = el('ul', { className: 'banshi-claims', 'aria-label': '方案承诺' });
  m.claims.forEach((c) => {
    list.appendChild(
      el('li', {}, [
        el('span', { text: String(c.text || '') }),
        el('small', { className: 'banshi-claim-source', text: `来源：${String(c.source || '')}` }),
      ]),
    );
  });
  return list;
}

function chooseSite(id) {
  if (!SITE_PATTERN.test(id)) return;
  state.site = id;
  store.set(KEYS.site, id);
  state.catalogue = null;
}

/** Asked once: where to go depends on the citizen's county; the answer is remembered. */
function siteChooser(m, entryId) {
  if (!m.ask_site || state.site || !Array.isArray(m.ask_site.options)) return null;
  const box = el('div', { className: 'banshi-site-chooser', role: 'group', 'aria-label': '选择办理地' }, [
    el('p', { text: String(m.ask_site.question || '您在哪个区县（市）办理？') }),
  ]);
  m.ask_site.options.forEach((o) => {
    box.appendChild(
      el('button', {
        type: 'button',
        className: 'banshi-quick banshi-site-option',
        'data-site': String(o.id || ''),
        text: String(o.name || o.id || ''),
        onclick: () => {
          chooseSite(String(o.id || ''));
          box.querySelectorAll('button').forEach((b) => {
            b.disabled = true;
          });
          showSiteContact(box, entryId);
        },
      }),
    );
  });
  return box;
}

/** After a site is chosen: that site's location and phone for the card's entry. */
function showSiteContact(box, entryId) {
  api('GET', `/api/guides/${encodeURIComponent(entryId)}/contact?site=${encodeURIComponent(state.site)}`)
    .then((res) => {
      if (!res.ok) throw res;
      const d = res.data;
      const list = el(
        'div',
        { className: 'banshi-site-contact', 'data-site': String(d.site || '') },
        [el('p', { className: 'banshi-site-name', text: String(d.site_name || '') })].concat(
          (d.sections || []).map((s) => cardSection(s, entryId)),
        ),
      );
      box.replaceWith(list);
    })
    .catch(() => {
      box.appendChild(el('p', { text: `暂时无法获取，请拨打${HOTLINE}咨询。` }));
    });
}

/* ---- 办事攻略 catalogue tab: GET /api/guides, browsable by life event, enterprise
   stage and department, with 高效办成一件事 and 全省首推 as their own groups */

function buildTabs() {
  const mk = (key, text) =>
    el('button', {
      type: 'button',
      role: 'tab',
      id: `banshi-tab-${key}`,
      className: 'banshi-tab',
      'aria-selected': key === 'chat' ? 'true' : 'false',
      'aria-controls': key === 'chat' ? 'banshi-messages' : 'banshi-catalogue',
      text: text,
      onclick: () => {
        showTab(key);
      },
    });
  ui.tabs = el('div', { className: 'banshi-tabs', role: 'tablist', 'aria-label': '功能' }, [
    mk('chat', '智能咨询'),
    mk('guides', '办事攻略'),
  ]);
  return ui.tabs;
}

function buildCatalogue() {
  ui.catalogue = el('div', {
    id: 'banshi-catalogue',
    className: 'banshi-catalogue',
    role: 'tabpanel',
    tabindex: '0',
    hidden: true,
  });
  return ui.catalogue;
}

function showTab(key) {
  const guides = key === 'guides';
  ui.tabs.querySelectorAll('.banshi-tab').forEach((t) => {
    t.setAttribute('aria-selected', t.id === `banshi-tab-${key}` ? 'true' : 'false');
  });
  ui.catalogue.hidden = !guides;
  ui.log.hidden = guides;
  ui.panel.querySelector('.banshi-composer').hidden = guides;
  if (guides) loadCatalogue();
  else ui.input.focus();
}

function loadCatalogue() {
  const path = `/api/guides${state.site ? `?site=${encodeURIComponent(state.site)}` : ''}`;
  ui.catalogue.textContent = '';
  ui.catalogue.appendChild(el('p', { className: 'banshi-cat-status', role: 'status', text: '正在加载办事攻略…' }));
  api('GET', path)
    .then((res) => {
      if (!res.ok) throw res;
      state.catalogue = res.data;
      renderCatalogue();
    })
    .catch(() => {
      ui.catalogue.textContent = '';
      ui.catalogue.appendChild(
        el('p', { role: 'alert', text: `办事攻略暂时无法加载，请稍后再试或拨打${HOTLINE}咨询。` }),
      );
    });
}

function catalogueGroup(title, items, key) {
  const list = el('ul', { className: 'banshi-cat-items' });
  items.forEach((it) => {
    list.appendChild(
      el(
        'li',
        { 'data-entry-id': String(it.id || '') },
        [
          el('button', {
            type: 'button',
            className: 'banshi-linkbtn banshi-cat-item',
            text: String(it.title || ''),
            onclick: () => {
              showTab('chat');
              send(String(it.title || ''), String(it.title || ''));
            },
          }),
        ].concat(
          (it.badges || []).map((b) =>
            el('span', {
              className: `banshi-card-badge banshi-badge-${b === '全省首推' ? 'first' : 'tag'}`,
              text: String(b),
            }),
          ),
        ),
      ),
    );
  });
  const details = el('details', { className: 'banshi-cat-group', 'data-group': key || '' }, [
    el('summary', { text: `${title}（${items.length}）` }),
    list,
  ]);
  return details;
}

function renderCatalogue() {
  const c = state.catalogue || {};
  ui.catalogue.textContent = '';
  ui.catalogue.appendChild(
    el('p', { className: 'banshi-cat-head', text: `${c.site_name || ''} · 共${c.count || 0}项办事攻略` }),
  );
  (c.featured || []).forEach((g) => {
    const d = catalogueGroup(g.title, g.items || [], g.key);
    d.open = true;
    ui.catalogue.appendChild(d);
  });
  const views = Array.isArray(c.views) ? c.views : [];
  const switcher = el('div', { className: 'banshi-cat-views', role: 'group', 'aria-label': '浏览方式' });
  const body = el('div', { className: 'banshi-cat-view' });
  const show = (key) => {
    state.catalogueView = key;
    switcher.querySelectorAll('button').forEach((b) => {
      b.setAttribute('aria-pressed', b.getAttribute('data-view') === key ? 'true' : 'false');
    });
    body.textContent = '';
    const view = views.filter((v) => v.key === key)[0];
    (view?.groups || []).forEach((g) => {
      body.appendChild(catalogueGroup(g.title, g.items || [], key));
    });
  };
  views.forEach((v) => {
    switcher.appendChild(
      el('button', {
        type: 'button',
        className: 'banshi-btn banshi-secondary banshi-cat-view-btn',
        'data-view': v.key,
        text: v.title,
        onclick: () => {
          show(v.key);
        },
      }),
    );
  });
  ui.catalogue.appendChild(switcher);
  ui.catalogue.appendChild(body);
  show(state.catalogueView);
  const all = `/guides${state.site ? `?site=${encodeURIComponent(state.site)}` : ''}`;
  ui.catalogue.appendChild(el('p', {}, [link(all, '查看全部办事攻略和一事一码', true)]));
}

/* ---- handoff */

function showBanner(text, kind, withRating) {
  state.bannerKind = kind;
  ui.handoff.textContent = '';
  ui.handoff.className = `banshi-handoff banshi-handoff-${kind}`;
  ui.handoff.appendChild(el('span', { text: text }));
  if (withRating) {
    ui.handoff.appendChild(
      el('button', { type: 'button', className: 'banshi-linkbtn', text: '评价本次服务', onclick: openRating }),
    );
  }
  ui.handoff.hidden = false;
}

/** Waiting for an agent: the citizen may stop waiting and go back to the bot (取消转人工). */
function waitingBanner() {
  showBanner('正在转接人工客服…', 'waiting');
  const cancel = el('button', {
    type: 'button',
    className: 'banshi-linkbtn banshi-cancel-handoff',
    text: '取消转人工',
  });
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    api('POST', chatPath('/handoff/cancel'), {})
      .then((res) => {
        if (!res.ok) throw res;
        return catchUp(); // the stored "cancelled" message switches the widget back to the bot
      })
      .catch((res) => {
        cancel.disabled = false;
        systemNotice(detail(res, `没有取消成功，请稍后再试，或拨打${HOTLINE}。`), 'banshi-notice');
      });
  });
  ui.handoff.appendChild(cancel);
}

function agentBanner() {
  showBanner(state.agent ? `人工客服（工号${state.agent}）正在为您服务` : '人工客服正在为您服务', 'active');
}

function renderHandoff(m, role, live) {
  const status = m.status;
  let text = m.text;
  if (m.agent) state.agent = String(m.agent);
  if (status === 'waiting') {
    text = text || '正在转接人工客服…';
    waitingBanner();
    setHandoff(true);
  } else if (status === 'active') {
    text = text || '人工客服已接入';
    agentBanner();
    setHandoff(true);
  } else if (status === 'offline') {
    text = text || '当前暂无人工客服在线。';
    showBanner(`当前暂无人工客服在线${m.leave_message ? '，您可以留言，我们会尽快回复' : ''}`, 'offline');
    setHandoff(false);
  } else if (status === 'cancelled') {
    text = text || '已取消转人工，智能助手继续为您服务。';
    setHandoff(false);
  } else if (status === 'closed') {
    text = text || '人工服务已结束，智能助手继续为您服务';
    showBanner('人工服务已结束，智能助手继续为您服务', 'closed', true);
    state.agent = '';
    setHandoff(false);
  }
  const children = [bubble(text || '')];
  if (status === 'closed') {
    children.push(
      el('button', { type: 'button', className: 'banshi-linkbtn', text: '评价本次服务', onclick: openRating }),
    );
  }
  if (status === 'offline' && m.leave_message) children.push(callbackForm(m.ticket_id));
  addMsg(role === 'user' ? 'system' : role, m.id, children, 'banshi-handoff-msg');
  if (status === 'closed' && live && state.open) openRating();
}

/** 留言回电 form shown when no agent is online. */
function callbackForm(ticketId) {
  const key = String(ticketId || state.sender);
  if (remembered(KEYS.callback, key))
    return el('p', { className: 'banshi-note', text: '您已留言，我们会尽快与您联系。' });
  state.matCounter += 1;
  const uid = `banshi-cb-${state.matCounter}`;
  const phone = el('input', {
    id: `${uid}-phone`,
    type: 'tel',
    inputmode: 'numeric',
    autocomplete: 'tel',
    maxlength: '11',
    required: true,
  });
  const text = el('textarea', { id: `${uid}-msg`, rows: '3', maxlength: String(MAX_CHARS), required: true });
  const err = el('p', { className: 'banshi-form-error', role: 'alert' });
  const submit = el('button', { type: 'submit', className: 'banshi-btn banshi-primary', text: '提交留言' });
  const form = el('form', { className: 'banshi-callback', 'aria-label': '留言回电' }, [
    el('label', { for: phone.id, text: '手机号' }),
    phone,
    el('label', { for: text.id, text: '留言' }),
    text,
    err,
    submit,
  ]);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = phone.value.replace(/\s+/g, '');
    if (!/^1[3-9]\d{9}$/.test(p)) {
      err.textContent = '请填写正确的11位手机号。';
      phone.focus();
      return;
    }
    if (!text.value.trim()) {
      err.textContent = '请填写留言内容。';
      text.focus();
      return;
    }
    err.textContent = '';
    submit.disabled = true;
    api('POST', chatPath('/callback'), { phone: p, message: text.value.trim() })
      .then((res) => {
        if (!res.ok) throw res;
        remember(KEYS.callback, key);
        form.replaceWith(
          el('p', {
            className: 'banshi-note',
            role: 'status',
            text: `留言成功。${res.data.expect || '我们会尽快与您联系。'}`,
          }),
        );
      })
      .catch((res) => {
        submit.disabled = false;
        err.textContent = detail(res, `留言没有提交成功，请稍后再试，或拨打${HOTLINE}。`);
      });
  });
  return form;
}

/** Turn polling on/off according to the ticket state and the stream's health. */
function setHandoff(on) {
  state.handoff = !!on;
  const serving = state.bannerKind === 'waiting' || state.bannerKind === 'active';
  if (on && !serving) waitingBanner();
  if (!on && serving) {
    ui.handoff.hidden = true;
    state.bannerKind = '';
  }
  if (on) startStream();
  schedulePoll();
}

/* ---- server messages */

/** Display text of a user message (button payloads are shown by their title). */
function userText(text) {
  const titles = store.getJSON(KEYS.titles, {});
  if (titles[text]) return titles[text];
  return /^\/\w+/.test(text) ? '（已选择一个选项）' : text;
}

/** Same message? The server stores it trimmed, with ID/phone/card numbers masked by '*'. */
function sameText(local, stored) {
  if (local === stored) return true;
  const strip = (t) => t.replace(/[\d\s+*-]/g, '');
  return stored.indexOf('*') >= 0 && strip(local) === strip(stored);
}

/** A user message echoed by the server: bind it to the local bubble instead of drawing it twice. */
function claimPending(m) {
  const stored = String(m.text || '').trim();
  const i = state.pending.findIndex((p) => sameText(p.text, stored));
  if (i < 0) return false;
  const p = state.pending.splice(i, 1)[0];
  p.node.setAttribute('data-id', String(m.id));
  return true;
}

/** Render one stored message (deduplicated by id). live: arrived now, not from history. */
function renderServerMessage(m, live) {
  if (!m || typeof m !== 'object') return;
  const id = Number(m.id);
  if (id) {
    if (state.seen.has(id)) return;
    state.seen.add(id);
    state.lastId = Math.max(state.lastId, id);
  }
  const role = ['user', 'bot', 'agent', 'system'].indexOf(m.role) >= 0 ? m.role : 'bot';
  if (role === 'user') {
    if (!claimPending(m)) addMsg('user', id, [bubble(userText(String(m.text || '')))]);
    return;
  }
  if (m.type === 'handoff') renderHandoff(m, role, live);
  else if (m.type === 'card') renderCard(m, role);
  else if (m.type === 'buttons') addMsg(role, id, [m.text ? bubble(m.text) : null, quickReplies(m.buttons)]);
  else if (typeof m.text === 'string' && m.text) renderText(m, role);
  else return;
  if (live && !state.open && role !== 'system') setUnread(state.unread + 1);
}

function renderText(m, role) {
  if (role === 'agent') {
    if (m.agent) state.agent = String(m.agent);
    agentBanner();
    const label = `人工客服${m.agent ? `（${m.agent}）` : ''}`;
    const msg = addMsg('agent', m.id, [bubble(m.text)]);
    msg.querySelector('.banshi-who').textContent = label;
    return msg;
  }
  return addMsg(role, m.id, [bubble(m.text)]);
}

/* -------------------------------------------------------------- sending */

function sendInput() {
  const text = ui.input.value.trim();
  if (!text || state.busy) return;
  if (send(text, text)) ui.input.value = '';
}

/** Show the user's bubble (display) and send `text`. Returns false when busy. */
function send(text, display) {
  text = String(text || '').trim();
  if (!text || state.busy) return false;
  if (!state.open) openPanel();
  if (display !== text) {
    const titles = store.getJSON(KEYS.titles, {});
    titles[text] = display;
    const keys = Object.keys(titles);
    keys.slice(0, Math.max(0, keys.length - 100)).forEach((k) => {
      delete titles[k];
    });
    store.setJSON(KEYS.titles, titles);
  }
  const node = addMsg('user', null, [bubble(display || text)]);
  const entry = { text: text, node: node };
  state.pending.push(entry);
  if (state.pending.length > 30) state.pending.shift(); // never echoed (e.g. no stream): forget
  post(entry);
  return true;
}

function setBusy(on) {
  state.busy = on;
  ui.send.disabled = on;
  ui.human.disabled = on;
  ui.typing.hidden = !on;
  if (on) scrollToEnd();
}

function post(entry, retried) {
  setBusy(true);
  entry.node.classList.remove('banshi-unsent');
  ensureConversation()
    .then((sender) => {
      if (!sender) return Promise.reject(new Error('no conversation'));
      const body = { sender_id: sender, message: entry.text };
      if (state.site) body.site = state.site;
      return api('POST', '/api/chat', body);
    })
    .then(
      (res) => {
        setBusy(false);
        if (conversationLost(res) && !retried) {
          // ended or idled out: a new conversation, same message
          const node = entry.node;
          forgetConversation();
          ui.log.appendChild(node);
          state.pending.push(entry);
          post(entry, true);
          return;
        }
        if (res.ok) onChatResponse(res.data);
        else if (res.status >= 400 && res.status < 500) onRejected(entry, res);
        else failed(entry); // 5xx
      },
      () => {
        // network error or 20 s timeout
        setBusy(false);
        failed(entry);
      },
    );
}

function onChatResponse(data) {
  (data.messages || []).forEach((m) => {
    renderServerMessage(m, true);
  });
  setHandoff(!!data.handoff);
}

/** 4xx: the message was refused (too long, invalid, too fast). */
function onRejected(entry, res) {
  const i = state.pending.indexOf(entry);
  if (i >= 0) state.pending.splice(i, 1);
  entry.node.classList.add('banshi-unsent');
  let reason = detail(res, '消息没有发送成功，请修改后再试。');
  if (res.status === 429 && res.retryAfter && reason.indexOf('秒') < 0) reason += `（请${res.retryAfter}秒后再试）`;
  systemNotice(reason, 'banshi-notice');
}

/** Network error, 5xx or timeout: kind notice with a retry re-sending the same message. */
function failed(entry) {
  entry.node.classList.add('banshi-unsent');
  const notice = addMsg(
    'system',
    null,
    [
      el('div', { className: 'banshi-bubble', role: 'alert' }, [
        '网络不太稳定，消息没发出去。可以',
        el('button', {
          type: 'button',
          className: 'banshi-linkbtn banshi-retry',
          text: '点此重试',
          onclick: () => {
            if (state.busy) return;
            notice.remove();
            post(entry);
          },
        }),
        '，或拨打',
        telLink(HOTLINE, HOTLINE),
        '政务服务便民热线。',
      ]),
    ],
    'banshi-error',
  );
}

/* -------------------------------------------------- history and stream */

/**
 * Fetch every message after the last seen id. One request at a time; a call made while
 * one is in flight runs again afterwards so that nothing stored meanwhile is lost.
 */
function catchUp() {
  if (state.catchingUp) {
    state.catchUpAgain = true;
    return state.catchingUp;
  }
  state.catchingUp = fetchAfter(0).finally(() => {
    state.catchingUp = null;
    if (state.catchUpAgain) {
      state.catchUpAgain = false;
      return catchUp();
    }
  });
  return state.catchingUp;
}

function fetchAfter(round) {
  if (!state.sender) return Promise.resolve();
  return api('GET', chatPath(`/messages?after=${state.lastId}`))
    .then((res) => {
      if (conversationLost(res)) {
        forgetConversation();
        return ensureConversation();
      }
      if (!res.ok) return;
      const messages = res.data.messages || [];
      messages.forEach((m) => {
        renderServerMessage(m, state.historyLoaded);
      });
      if (typeof res.data.cursor === 'number') state.lastId = Math.max(state.lastId, res.data.cursor);
      if (typeof res.data.handoff === 'boolean' && res.data.handoff !== state.handoff) setHandoff(res.data.handoff);
      if (messages.length >= 200 && round < 20) return fetchAfter(round + 1); // server pages by 200
    })
    .catch(() => {
      /* offline: the next poll or reconnect tries again */
    });
}

/** Restore a kept conversation; a new one is only asked for when the citizen opens the widget. */
function loadHistory() {
  const kept = store.get(KEYS.sender) ? ensureConversation().then(catchUp) : Promise.resolve();
  state.historyReady = kept.then(() => {
    state.historyLoaded = true;
  });
}

function startStream() {
  if (state.es || state.reconnectTimer || state.sseDisabled) return;
  if (!state.sender) {
    ensureConversation().then((id) => {
      if (id) startStream();
    });
    return;
  }
  if (!window.EventSource) {
    state.sseDisabled = true;
    schedulePoll();
    return;
  }
  connectStream();
}

function connectStream() {
  state.reconnectTimer = 0;
  const es = new EventSource(chatPath('/stream'));
  state.es = es;
  es.onopen = () => {
    state.sseOpen = true;
    state.sseEverOpened = true;
    state.sseFailures = 0;
    state.backoff = BACKOFF_MIN;
    schedulePoll();
    catchUp(); // fill any gap while we were disconnected
  };
  es.onmessage = (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch (_err) {
      return;
    }
    renderServerMessage(m, true);
  };
  es.onerror = () => {
    streamDropped(es);
  };
}

/** Close the broken stream and reconnect with exponential backoff (1s, 2s, 4s … 30s). */
function streamDropped(es) {
  es.close();
  if (state.es !== es) return;
  state.es = null;
  state.sseOpen = false;
  state.sseFailures += 1;
  if (!state.sseEverOpened && state.sseFailures >= 3) {
    state.sseDisabled = true; // no stream endpoint here: poll instead
  } else {
    const wait = state.backoff;
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX);
    state.reconnectTimer = setTimeout(connectStream, wait);
  }
  schedulePoll();
}

/** Poll every 2 s while a ticket is open and the stream is not delivering. */
function schedulePoll() {
  const need = state.handoff && !state.sseOpen;
  if (!need) {
    clearTimeout(state.pollTimer);
    state.pollTimer = 0;
    return;
  }
  if (state.pollTimer) return;
  state.pollTimer = setTimeout(() => {
    state.pollTimer = 0;
    catchUp().then(schedulePoll);
  }, POLL_MS);
}

function onOnline() {
  if (state.es || state.sseDisabled || !state.reconnectTimer) return;
  clearTimeout(state.reconnectTimer);
  state.backoff = BACKOFF_MIN;
  connectStream();
}

/* --------------------------------------------------------------- rating */

function buildRating() {
  ui.ratingStatus = el('p', { className: 'banshi-form-error', role: 'alert' });
  ui.ratingComment = el('textarea', { id: 'banshi-rating-comment', rows: '2', maxlength: String(MAX_CHARS) });
  const options = el('div', {
    className: 'banshi-rate-options',
    role: 'group',
    'aria-labelledby': 'banshi-rating-title',
  });
  RATINGS.forEach((r) => {
    options.appendChild(
      el('button', {
        type: 'button',
        className: 'banshi-rate',
        'data-score': String(r[0]),
        'aria-pressed': 'false',
        text: r[1],
        onclick: (e) => {
          selectScore(e.currentTarget);
        },
      }),
    );
  });
  ui.ratingSubmit = el('button', {
    type: 'submit',
    className: 'banshi-btn banshi-primary banshi-rate-submit',
    text: '提交评价',
  });
  const form = el('form', { className: 'banshi-rating-box', onsubmit: submitRating }, [
    el('h3', { id: 'banshi-rating-title', text: '请您对本次服务进行评价' }),
    options,
    el('label', { for: 'banshi-rating-comment', text: '意见建议（选填）' }),
    ui.ratingComment,
    ui.ratingStatus,
    el('div', { className: 'banshi-actions' }, [
      el('button', { type: 'button', className: 'banshi-btn banshi-secondary', text: '取消', onclick: closeRating }),
      ui.ratingSubmit,
    ]),
  ]);
  ui.rating = el(
    'div',
    {
      id: 'banshi-rating',
      className: 'banshi-rating',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': 'banshi-rating-title',
      hidden: true,
      onkeydown: trapFocus,
    },
    [form],
  );
  ui.panel.appendChild(ui.rating);
}

function selectScore(btn) {
  ui.rating.querySelectorAll('.banshi-rate').forEach((b) => {
    b.setAttribute('aria-pressed', b === btn ? 'true' : 'false');
  });
  ui.ratingStatus.textContent = '';
}

function openRating() {
  if (!state.open) openPanel();
  if (!ui.rating) buildRating();
  selectScore(null);
  ui.ratingComment.value = '';
  ui.ratingSubmit.disabled = false;
  state.lastFocus = document.activeElement;
  ui.rating.hidden = false;
  ui.rating.querySelector('.banshi-rate').focus();
}

function closeRating() {
  if (!ui.rating || ui.rating.hidden) return;
  ui.rating.hidden = true;
  const back = state.lastFocus && ui.panel.contains(state.lastFocus) ? state.lastFocus : ui.input;
  back.focus();
}

function submitRating(e) {
  e.preventDefault();
  const chosen = ui.rating.querySelector('.banshi-rate[aria-pressed="true"]');
  if (!chosen) {
    ui.ratingStatus.textContent = '请先选择一个满意程度。';
    return;
  }
  const body = { sender_id: state.sender, score: Number(chosen.getAttribute('data-score')) };
  const comment = ui.ratingComment.value.trim();
  if (comment) body.comment = comment;
  ui.ratingSubmit.disabled = true;
  api('POST', '/api/rating', body)
    .then((res) => {
      if (!res.ok) throw res;
      closeRating();
      systemNotice(`感谢您的评价（${chosen.textContent}），我们会持续改进服务。`, 'banshi-notice');
    })
    .catch((res) => {
      ui.ratingSubmit.disabled = false;
      ui.ratingStatus.textContent = detail(res, '评价没有提交成功，请稍后再试。');
    });
}

/** Keep Tab inside the rating dialog. */
function trapFocus(e) {
  if (e.key !== 'Tab') return;
  const items = Array.prototype.filter.call(ui.rating.querySelectorAll('button, textarea, input'), (n) => !n.disabled);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/* ----------------------------------------------------------------- init */

function initSite() {
  const fixed = SCRIPT?.getAttribute('data-site');
  if (fixed && SITE_PATTERN.test(fixed)) {
    state.site = fixed;
    state.siteFixed = true;
    return;
  }
  const chosen = store.get(KEYS.site);
  if (chosen && SITE_PATTERN.test(chosen)) state.site = chosen;
}

/** The bureau's settings (hotline, longest message) from /api/config; the defaults stay on failure. */
function loadConfig() {
  api('GET', '/api/config')
    .then((res) => {
      const c = res.ok ? res.data : {};
      if (typeof c.hotline === 'string' && c.hotline) {
        HOTLINE = c.hotline;
        ui.root.querySelectorAll('.banshi-hotline').forEach((span) => {
          span.replaceChildren(' · 紧急事项请拨打 ', telLink(HOTLINE, HOTLINE), ' 政务服务便民热线');
        });
      }
      if (Number.isInteger(c.max_message_chars) && c.max_message_chars > 0) {
        MAX_CHARS = c.max_message_chars;
        ui.root.querySelectorAll('textarea[maxlength]').forEach((t) => {
          t.maxLength = MAX_CHARS;
        });
      }
    })
    .catch(() => {
      /* offline: the defaults */
    });
}

function init() {
  OLD_KEYS.forEach((k) => {
    try {
      window.localStorage.removeItem(k);
    } catch (_e) {
      /* private */
    }
  });
  initSite();
  ui.root = el('div', { className: 'banshi-root', lang: 'zh-CN' }, [buildLauncher(), buildPanel()]);
  ui.root.style.visibility = 'hidden'; // until widget.css is loaded
  injectStyles();
  document.body.appendChild(ui.root);
  loadConfig();
  applyBigFont(store.get(KEYS.big) === '1');
  initSpeech();
  loadHistory();
  window.addEventListener('online', onOnline);
  document.addEventListener('keydown', onDocumentKey);
  const hashOpen = () => {
    if (window.location.hash === '#chat') openPanel();
  };
  window.addEventListener('hashchange', hashOpen);
  hashOpen();
}

// once per page, however often the script is included
if (!window.__banshiWidget) {
  window.__banshiWidget = true;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}
