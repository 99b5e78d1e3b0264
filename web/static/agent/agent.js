/*
 * 12345 agent console: login, live handoff queue, takeover (claim / reply / release / close),
 * suggested answers and phone assist. Talks only to this origin's JSON API; builds the DOM with
 * textContent only (never innerHTML), so nothing a citizen types can run here.
 */
(function () {
  'use strict';

  const POLL_MS = 2000;
  const ASSIST_DEBOUNCE_MS = 150;
  const TICKET_ROLES = ['agent', 'admin'];
  const ROLE_LABELS = { user: '市民', bot: '智能助手', agent: '坐席', system: '系统' };
  const REASONS = {
    explicit: '市民要求人工',
    complaint: '投诉',
    negative_feedback: '回答没帮到',
    not_understood: '未能理解问题',
    left_message: '留言'
  };

  const state = {
    me: null,
    csrf: '',
    sla: 180,
    selected: null,      // ticket id
    ticket: null,        // the selected ticket's detail
    historyKeys: new Set(),
    lastCitizenKey: '',  // the last citizen message seen: suggestions follow it
    queueTimer: 0,
    ticketTimer: 0,
    assistTimer: 0,
    assistSeq: 0,
    assistAbort: null,
    busy: false
  };

  /* ------------------------------------------------------------------ helpers */

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'className') node.className = v;
      else if (k === 'text') node.textContent = String(v);
      else if (k.slice(0, 2) === 'on' && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function cookie(name) {
    const parts = document.cookie ? document.cookie.split('; ') : [];
    for (let i = 0; i < parts.length; i += 1) {
      const eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return '';
  }

  /** Same-origin relative paths only (guide links come from the server). */
  function safePath(url) {
    return typeof url === 'string' && /^\/[A-Za-z0-9/_.-]*$/.test(url) ? url : null;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = function (n) { return String(n).padStart(2, '0'); };
    return (h ? h + ':' + pad(m) : pad(m)) + ':' + pad(s % 60);
  }

  function clock(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return isNaN(d.getTime()) ? '' : d.toLocaleTimeString('zh-CN', { hour12: false });
  }

  function detail(res, fallback) {
    const d = res && res.data && res.data.detail;
    return typeof d === 'string' && d ? d : fallback;
  }

  let noticeTimer = 0;
  function notice(text) {
    const n = $('notice');
    n.textContent = text;
    n.hidden = !text;
    clearTimeout(noticeTimer);
    if (text) noticeTimer = setTimeout(function () { n.hidden = true; }, 6000);
  }

  async function api(method, path, body, signal) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRF-Token'] = state.csrf || cookie('banshi_csrf');
    }
    let res;
    try {
      res = await fetch(path, {
        method: method,
        headers: headers,
        credentials: 'same-origin',
        cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal
      });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      return { ok: false, status: 0, data: { detail: '无法连接服务器，请检查网络。' } };
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 && path !== '/api/auth/login' && state.me) {
      stopConsole();
      showLogin(detail({ data: data }, '登录已失效，请重新登录。'));
    }
    return { ok: res.ok, status: res.status, data: data };
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

  function startConsole(session) {
    state.me = session.user;
    state.csrf = session.csrf_token || cookie('banshi_csrf');
    $('login-view').hidden = true;
    $('whoami').hidden = false;
    $('whoami-name').textContent = session.user.username + '（' + session.user.role_title + '）';
    if (TICKET_ROLES.indexOf(session.user.role) < 0) {
      $('console').hidden = true;
      notice('当前账号（' + session.user.role_title + '）没有坐席权限，请使用坐席账号登录。');
      return;
    }
    $('console').hidden = false;
    pollQueue();
  }

  function stopConsole() {
    clearTimeout(state.queueTimer);
    clearTimeout(state.ticketTimer);
    state.selected = null;
    state.ticket = null;
  }

  $('login-form').addEventListener('submit', async function (e) {
    e.preventDefault();
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    if (!username || !password) {
      $('login-error').textContent = '请输入用户名和密码。';
      return;
    }
    $('login-submit').disabled = true;
    $('login-error').textContent = '';
    const res = await api('POST', '/api/auth/login', { username: username, password: password });
    $('login-submit').disabled = false;
    if (!res.ok) {
      $('login-error').textContent = detail(res, '登录失败，请稍后再试。');
      $('login-password').value = '';
      $('login-password').focus();
      return;
    }
    $('login-password').value = '';
    startConsole(res.data);
  });

  $('logout').addEventListener('click', async function () {
    await api('POST', '/api/auth/logout');
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
    const classes = ['ticket', 'status-' + t.status];
    if (t.over_sla) classes.push('over-sla');
    if (t.id === state.selected) classes.push('selected');
    const mine = t.status === 'active' && state.me && t.claimed_by === state.me.username;
    const who = t.status === 'active' ? (mine ? '由我处理' : '由 ' + t.claimed_by + ' 处理') : t.status_title;
    const service = t.current_service_title || t.current_service || '未识别事项';
    return el('button', {
      type: 'button',
      className: classes.join(' '),
      'data-id': t.id,
      'aria-pressed': t.id === state.selected ? 'true' : 'false',
      onclick: function () { selectTicket(t.id); }
    }, [
      el('span', { className: 'ticket-line' }, [
        el('span', { className: 'ticket-id', text: '#' + t.id }),
        el('span', { className: 'wait', text: (t.status === 'active' ? '已等 ' : '等待 ') + duration(t.waiting_seconds) }),
      ]),
      el('span', { className: 'ticket-line' }, [
        el('span', { text: REASONS[t.reason] || t.reason }),
        t.over_sla ? el('span', { className: 'badge badge-sla', text: '超时' }) : el('span', { className: 'badge', text: who })
      ]),
      el('span', { className: 'ticket-sub', text: service + (t.callback_phone ? ' · 回拨 ' + t.callback_phone : '') })
    ]);
  }

  function renderQueue(data) {
    state.sla = data.sla_seconds || state.sla;
    $('queue-sla').textContent = '排队超过 ' + Math.round(state.sla / 60) + ' 分钟标红（最早的在最上面）';
    $('queue-count').textContent = '（' + data.count + '）';
    const focused = document.activeElement && document.activeElement.classList.contains('ticket')
      ? document.activeElement.getAttribute('data-id') : null;
    const list = $('queue');
    list.replaceChildren.apply(list, data.data.map(function (t) { return el('li', {}, [ticketButton(t)]); }));
    $('queue-empty').hidden = data.count > 0;
    if (focused) {
      const again = list.querySelector('.ticket[data-id="' + focused + '"]');
      if (again) again.focus();
    }
  }

  /* ------------------------------------------------------------------ ticket */

  function closeTicketView() {
    $('ticket-view').hidden = true;
    $('ticket-empty').hidden = false;
    $('suggestions').replaceChildren();
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
      $('ticket-title').textContent = '会话 #' + id;
      $('reply').value = '';
      $('ticket-error').textContent = '';
      $('suggestions').replaceChildren();
      ['claim', 'release', 'close', 'send'].forEach(function (b) { $(b).disabled = true; });
    }
    document.querySelectorAll('.ticket').forEach(function (b) {
      const on = Number(b.getAttribute('data-id')) === id;
      b.classList.toggle('selected', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    $('ticket-empty').hidden = true;
    $('ticket-view').hidden = false;
    pollTicket();
  }

  async function pollTicket() {
    clearTimeout(state.ticketTimer);
    const id = state.selected;
    if (!id || !state.me) return;
    const res = await api('GET', '/api/handoffs/' + id);
    if (state.selected !== id || !state.me) return;
    if (res.ok) renderTicket(res.data);
    else if (res.status === 404) { notice(detail(res, '工单不存在。')); closeTicketView(); state.selected = null; return; }
    state.ticketTimer = setTimeout(pollTicket, POLL_MS);
  }

  function holds(t) {
    return !!(t && t.status === 'active' && state.me && t.claimed_by === state.me.username);
  }

  function canEnd(t) {
    return !!(t && t.status === 'active' && state.me && (t.claimed_by === state.me.username || state.me.role === 'admin'));
  }

  function metaRow(term, value) {
    if (value === null || value === undefined || value === '') return [];
    return [el('dt', { text: term }), el('dd', {}, [value])];
  }

  // the bot's own bookkeeping, not something the citizen said
  const INTERNAL_SLOTS = ['candidates', 'current_service', 'misses', 'needs_situation', 'requested_slot',
    'requested_part', 'situation_answer'];

  function slotText(slots) {
    const out = [];
    Object.keys(slots || {}).forEach(function (k) {
      if (INTERNAL_SLOTS.indexOf(k) >= 0) return;
      const v = slots[k];
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        Object.keys(v).forEach(function (kk) { out.push(k + '.' + kk + '=' + String(v[kk])); });
      } else {
        out.push(k + '=' + (Array.isArray(v) ? v.join('、') : String(v)));
      }
    });
    return out.join('；');
  }

  function resolutionTitle(value) {
    if (!value) return '';
    if (value === 'cancelled') return '群众取消等待'; // withdrawn in the widget before anyone took it
    const option = Array.prototype.find.call($('resolution').options, function (o) { return o.value === value; });
    return option ? option.textContent : value;
  }

  function renderTicket(t) {
    state.ticket = t;
    $('ticket-title').textContent = '会话 #' + t.id + ' · ' + t.status_title;
    const candidates = (t.candidates || []).map(function (c) {
      return c && typeof c === 'object' ? (c.title || c.id) : String(c);
    }).filter(Boolean).join('、');
    let phone = null;
    if (t.callback_phone_full) {
      phone = el('a', { href: 'tel:' + t.callback_phone_full.replace(/[^0-9+]/g, ''), text: t.callback_phone_full });
    } else if (t.callback_phone) {
      phone = t.callback_phone + '（接入后显示完整号码）';
    }
    const meta = [].concat(
      metaRow('状态', t.status_title + (t.claimed_by ? '（' + t.claimed_by + '）' : '')),
      metaRow('转人工原因', REASONS[t.reason] || t.reason),
      metaRow('当前事项', t.current_service_title || t.current_service || '未识别'),
      metaRow('已填信息', slotText(t.slots)),
      metaRow('候选事项', candidates),
      metaRow('等待时间', duration(t.waiting_seconds) + (t.over_sla ? '（已超时）' : '')),
      metaRow('回拨电话', phone),
      metaRow('结束原因', resolutionTitle(t.resolution))
    );
    $('ticket-meta').replaceChildren.apply($('ticket-meta'), meta);

    const mine = holds(t);
    $('claim').disabled = state.busy || !(t.status === 'waiting' || t.status === 'left-message');
    $('release').disabled = state.busy || !canEnd(t);
    $('close').disabled = state.busy || !canEnd(t);
    $('resolution').disabled = !canEnd(t);
    $('reply').disabled = !mine;
    $('send').disabled = state.busy || !mine;
    $('reply').placeholder = mine ? ''
      : t.status === 'active' ? '该会话由 ' + t.claimed_by + ' 处理'
        : t.status === 'closed' ? '会话已结束' : '接入后才能回复';
    document.querySelectorAll('.suggestion-send').forEach(function (b) { b.disabled = !mine; });

    renderHistory(t.history || []);
  }

  function renderHistory(items) {
    const log = $('history');
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    let citizenKey = state.lastCitizenKey;
    items.forEach(function (m, i) {
      const key = m.id === null || m.id === undefined ? 't' + i : 'm' + m.id;
      if (m.role === 'user') citizenKey = key;
      if (state.historyKeys.has(key)) return;
      state.historyKeys.add(key);
      const role = ROLE_LABELS[m.role] ? m.role : 'system';
      const who = (m.role === 'agent' && m.agent ? '坐席 ' + m.agent : ROLE_LABELS[role]) +
        (m.at ? ' ' + clock(m.at) : '（转接前）');
      log.appendChild(el('li', {
        className: 'msg msg-' + role + (m.id === null || m.id === undefined ? ' msg-handover' : ''),
        'data-key': key
      }, [el('span', { className: 'msg-who', text: who }), m.text || '']));
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
    const res = await api('POST', '/api/handoffs/' + id + path, body);
    state.busy = false;
    if (!res.ok) {
      $('ticket-error').textContent = detail(res, '操作没有成功，请重试。');
    } else if (done) {
      done(res.data);
    }
    pollTicket();
    pollQueue();
    return res;
  }

  $('claim').addEventListener('click', function () {
    ticketAction('/claim', undefined, function () {
      notice('已接入工单 #' + state.selected + '，市民会看到您已接入。');
      $('reply').disabled = false;
      $('reply').focus();
    });
  });

  $('release').addEventListener('click', function () {
    ticketAction('/release', undefined, function () { notice('工单已退回队列。'); });
  });

  $('close').addEventListener('click', function () {
    const resolution = $('resolution').value;
    ticketAction('/close', { resolution: resolution }, function (data) {
      notice(data.bot_resumed
        ? '会话已结束，智能助手将继续为市民服务。'
        : '会话已结束，但智能助手暂未恢复（对话服务不可用），请联系管理员。');
    });
  });

  async function sendText(text, onSent) {
    const clean = (text || '').trim();
    if (!clean) return;
    await ticketAction('/messages', { text: clean }, onSent);
  }

  $('reply-form').addEventListener('submit', function (e) {
    e.preventDefault();
    sendText($('reply').value, function () { $('reply').value = ''; $('reply').focus(); });
  });

  $('reply').addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $('reply-form').requestSubmit();
    }
  });

  /* ------------------------------------------------------------------ suggestions */

  function situationList(situations) {
    if (!situations || !situations.length) return null;
    return el('div', {}, [
      el('p', { className: 'situations-title', text: '需要问清的情形：' }),
      el('ol', { className: 'situations' }, situations.map(function (s) {
        return el('li', { text: s.question + (s.options && s.options.length ? '（' + s.options.join(' / ') + '）' : '') });
      }))
    ]);
  }

  function guideLink(url) {
    const href = safePath(url);
    return href ? el('a', { href: href, target: '_blank', rel: 'noopener', text: '打开办事指南' }) : null;
  }

  function suggestionCard(s, i) {
    const uid = 'suggestion-' + i;
    const text = el('textarea', { id: uid + '-text', className: 'suggestion-text', rows: '6' });
    text.value = s.text;
    text.addEventListener('input', function () { text.setAttribute('data-dirty', '1'); });
    const send = el('button', {
      type: 'button',
      className: 'btn btn-primary suggestion-send',
      text: '发送',
      onclick: function () {
        sendText(text.value, function () { notice('已发送“' + s.title + '”的一次性告知。'); });
      }
    });
    send.disabled = !holds(state.ticket);
    return el('article', { className: 'suggestion', 'data-entry': s.id }, [
      el('h3', {}, [s.title, el('span', { className: 'score', text: '匹配度 ' + Math.round(s.score * 100) + '%' })]),
      el('label', { for: uid + '-text', text: '一次性告知（可修改后发送）' }),
      text,
      el('div', { className: 'suggestion-actions' }, [guideLink(s.guide_url), send]),
      el('details', {}, [
        el('summary', { text: '电话朗读版' }),
        el('p', { className: 'speech', text: s.speech })
      ]),
      situationList(s.situations)
    ]);
  }

  async function loadSuggestions(force) {
    const id = state.selected;
    if (!id) return;
    const box = $('suggestions');
    if (!force && box.querySelector('.suggestion-text[data-dirty]')) {
      $('suggest-refresh').hidden = false;  // the agent is editing: do not overwrite
      return;
    }
    const res = await api('GET', '/api/handoffs/' + id + '/suggestions');
    if (state.selected !== id || !res.ok) return;
    $('suggest-refresh').hidden = true;
    const results = res.data.results || [];
    box.replaceChildren.apply(box, results.length
      ? results.map(suggestionCard)
      : [el('p', { className: 'empty', text: '没有找到相关的办事指南。' })]);
  }

  $('suggest-refresh').addEventListener('click', function () { loadSuggestions(true); });

  /* ------------------------------------------------------------------ phone assist */

  function assistCard(s) {
    return el('article', { className: 'assist-result', 'data-entry': s.id }, [
      el('h3', {}, [s.title, el('span', { className: 'score', text: '匹配度 ' + Math.round(s.score * 100) + '%' })]),
      el('p', { className: 'speech', text: s.speech }),
      situationList(s.situations),
      el('details', {}, [
        el('summary', { text: '一次性告知全文' }),
        el('p', { className: 'fulltext', text: s.text })
      ]),
      guideLink(s.guide_url)
    ]);
  }

  async function runAssist(text) {
    const seq = ++state.assistSeq;
    if (state.assistAbort) state.assistAbort.abort();
    const box = $('assist-results');
    if (!text) { box.replaceChildren(); return; }
    const ctrl = new AbortController();
    state.assistAbort = ctrl;
    let res;
    try {
      res = await api('POST', '/api/assist', { text: text }, ctrl.signal);
    } catch (e) {
      return;  // superseded by a newer keystroke
    }
    if (seq !== state.assistSeq) return;
    if (!res.ok) {
      box.replaceChildren(el('p', { className: 'error', text: detail(res, '查询失败，请重试。') }));
      return;
    }
    const results = res.data.results || [];
    box.replaceChildren.apply(box, results.length
      ? results.map(assistCard)
      : [el('p', { className: 'empty', text: '没有找到相关的办事指南。' })]);
  }

  $('assist-input').addEventListener('input', function () {
    clearTimeout(state.assistTimer);
    const text = $('assist-input').value.trim();
    state.assistTimer = setTimeout(function () { runAssist(text); }, ASSIST_DEBOUNCE_MS);
  });

  /* ------------------------------------------------------------------ start */

  (async function start() {
    const res = await api('GET', '/api/auth/me');
    if (res.ok && res.data) startConsole(res.data);
    else showLogin('');
  })();
})();
