/*
 * The calendar page: the API's posts and queues on a calendar.  It calls
 * the API only (/api/...), with the API key the user signed in with, kept
 * in sessionStorage (this tab only).  FullCalendar draws the month, week
 * and list views; luxon does the time zones.
 */
'use strict';

(function () {
  const KEY = 'tiktok.apiKey';
  const TZ = 'tiktok.timeZone';
  const GROUP = 'tiktok.group';
  const POLL_MS = Number(new URLSearchParams(location.search).get('poll'))
    || 5000;
  const LIMITS = { video: 2200, image: 4000 };
  const EDITABLE = ['draft', 'pending', 'scheduled'];

  const $ = (id) => document.getElementById(id);
  const DateTime = () => window.luxon.DateTime;

  const st = {
    key: sessionStorage.getItem(KEY) || '',
    tz: localStorage.getItem(TZ)
      || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    group: '',
    groups: [],
    profiles: [],
    queues: [],
    cal: null,
    open: null,      /* the post shown in the post dialog */
    deleting: null,  /* the id of a post whose DELETE is on its way */
    focusId: null,   /* the id of the event the keyboard is on */
    timer: 0,
  };

  /* ---- the API ---- */

  class ApiError extends Error {
    constructor(status, body) {
      super(apiMessage(status, body));
      this.status = status;
      this.body = body;
    }
  }

  function apiMessage(status, b) {
    if (status === 401) {
      return 'This API key was not accepted (Invalid API key).';
    }
    if (status === 0) {
      return 'The server did not answer: check your connection.';
    }
    if (b && Array.isArray(b.errors)) {
      return b.errors.join('; ');
    }
    if (b && b.message) {
      return b.message;
    }
    if (status === 404) {
      return 'Not found: it may have been deleted.';
    }
    return (b && b.error) || ('The server answered ' + status + '.');
  }

  async function api(method, path, body, query) {
    const key = st.key;
    if (!key) {
      /* signed out while a refresh was on its way: ask nothing */
      throw new ApiError(401, null);
    }
    const u = new URL(path, location.origin);
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null && v !== '') {
        u.searchParams.set(k, v);
      }
    }
    const opt = { method, headers: { Authorization: 'Bearer ' + key } };
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(u, opt);
    } catch (e) {
      throw new ApiError(0, null);
    }
    let data = null;
    try {
      data = await r.json();
    } catch (e) {
      data = null;
    }
    if (!r.ok) {
      if (r.status === 401 && st.key === key && !$('app').hidden) {
        signOut('Your API key is no longer accepted: sign in again.');
      }
      throw new ApiError(r.status, data);
    }
    return data;
  }

  const inGroup = (q) => Object.assign({ profile_group_id: st.group }, q);

  /* every page of a list */
  async function listAll(path, query) {
    const out = [];
    for (let page = 0; page < 50; page++) {
      const r = await api('GET', path, undefined,
                          Object.assign({ per_page: 100, page }, query));
      out.push(...r.data);
      if (r.total === undefined || out.length >= r.total
          || r.data.length === 0) {
        break;
      }
    }
    return out;
  }

  /* ---- small helpers ---- */

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) {
        continue;
      }
      if (k === 'class') {
        e.className = v;
      } else if (k.startsWith('on')) {
        e.addEventListener(k.slice(2), v);
      } else {
        e.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const k of kids.flat()) {
      if (k !== undefined && k !== null && k !== false) {
        e.append(k instanceof Node ? k : String(k));
      }
    }
    return e;
  }

  let noticeTimer = 0;
  function notice(msg, bad) {
    const n = $('notice');
    n.textContent = msg;
    n.classList.toggle('bad', !!bad);
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { n.textContent = ''; }, 12000);
  }

  function fmt(iso, withZone) {
    if (!iso) {
      return '—';
    }
    const d = DateTime().fromISO(iso, { zone: st.tz });
    return d.toFormat('ccc d LLL yyyy, HH:mm') + (withZone ? ' ' + st.tz : '');
  }

  /* a datetime-local value, read in the chosen zone, as UTC ISO */
  function localToIso(v) {
    const d = DateTime().fromISO(v, { zone: st.tz });
    return d.isValid ? d.toUTC().toISO({ suppressMilliseconds: true }) : null;
  }

  function isoToLocal(iso) {
    return DateTime().fromISO(iso, { zone: st.tz })
      .toFormat("yyyy-LL-dd'T'HH:mm");
  }

  /* what the calendar colours: one of the six statuses */
  function shownStatus(p) {
    const pl = (p.platforms || [])[0] || {};
    if (p.status === 'media_processing_failed' || pl.status === 'failed') {
      return 'failed';
    }
    if (pl.status === 'published') {
      return 'published';
    }
    if (p.status === 'processing' || p.status === 'processed'
        || pl.status === 'processing'
        || pl.status === 'failed_waiting_for_retry') {
      return 'publishing';
    }
    return p.draft ? 'draft' : p.status;
  }

  function thumbOf(p) {
    const m = (p.media || []).find((x) =>
      /^image\//.test(x.content_type || '')
      || /\.(jpe?g|png|webp|gif)(\?|$)/i.test(x.source_url || ''));
    return m ? m.source_url : null;
  }

  const caption = (p) => (p.body || '').trim().split('\n')[0].slice(0, 60)
    || '(no caption)';

  /* ---- sign-in ---- */

  async function signIn(key) {
    st.key = key;
    const groups = await api('GET', '/api/profile_groups');
    sessionStorage.setItem(KEY, key);
    st.groups = groups.data || [];
    const saved = sessionStorage.getItem(GROUP);
    st.group = st.groups.some((g) => g.id === saved) ? saved
      : (st.groups[0] || {}).id || '';
    $('signin').hidden = true;
    $('app').hidden = false;
    await loadAccounts();
    startCalendar();
    afterConnect();
    poll();
  }

  function signOut(msg) {
    sessionStorage.removeItem(KEY);
    st.key = '';
    clearTimeout(st.timer);
    if (st.cal) {
      st.cal.destroy();
      st.cal = null;
    }
    $('app').hidden = true;
    $('signin').hidden = false;
    $('signin-error').textContent = msg || '';
    $('api-key').value = '';
    $('api-key').focus();
  }

  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = $('api-key').value.trim();
    const err = $('signin-error');
    err.textContent = '';
    if (!key) {
      err.textContent = 'Enter your API key.';
      return;
    }
    try {
      await signIn(key);
    } catch (e) {
      st.key = '';
      err.textContent = e.status === 401
        ? 'Wrong API key: the server did not accept it.' : e.message;
      $('api-key').focus();
    }
  });

  $('signout').addEventListener('click', () => signOut('Signed out.'));

  /* ---- accounts, queues ---- */

  async function loadAccounts() {
    const [profiles, queues] = await Promise.all([
      api('GET', '/api/profiles', undefined, inGroup()),
      api('GET', '/api/post_queues', undefined, inGroup()),
    ]);
    st.profiles = profiles.data || [];
    st.queues = (queues.data || [])
      .filter((q) => !q.profile_group_id || q.profile_group_id === st.group);
    const sel = $('group');
    sel.replaceChildren(...st.groups.map((g) => {
      const prof = st.profiles.find((p) => p.profile_group_id === g.id);
      const who = prof ? ' · @' + (prof.username || prof.name)
        + (prof.status !== 'active' ? ' (' + prof.status + ')' : '')
        : ' · no TikTok account';
      return el('option', { value: g.id, selected: g.id === st.group },
                g.name + who);
    }));
    renderQueues();
  }

  function groupProfile() {
    return st.profiles.find((p) => p.profile_group_id === st.group
                                   && p.platform === 'tiktok');
  }

  function renderQueues() {
    const ul = $('queues');
    if (!st.queues.length) {
      ul.replaceChildren(el('li', { class: 'hint' }, 'No queue in this group.'));
      return;
    }
    ul.replaceChildren(...st.queues.map((q) => el('li', {},
      el('strong', {}, q.name), ' · ', q.timezone,
      q.enabled === false ? ' · paused' : '',
      el('br'),
      el('span', { class: 'hint' }, (q.timeslots || []).length
        + ' slots a week, ' + (q.posts_count || 0) + ' posts'))));
  }

  $('group').addEventListener('change', async () => {
    st.group = $('group').value;
    sessionStorage.setItem(GROUP, st.group);
    try {
      await loadAccounts();
      refresh();
    } catch (e) {
      notice(e.message, true);
    }
  });

  /* ---- time zone ---- */

  function fillZones() {
    let zones = [];
    try {
      zones = Intl.supportedValuesOf('timeZone');
    } catch (e) {
      zones = [];
    }
    if (!zones.includes('UTC')) {
      zones.unshift('UTC');
    }
    if (!zones.includes(st.tz)) {
      zones.unshift(st.tz);
    }
    $('tz').replaceChildren(...zones.map((z) =>
      el('option', { value: z, selected: z === st.tz }, z)));
  }

  $('tz').addEventListener('change', () => {
    st.tz = $('tz').value;
    localStorage.setItem(TZ, st.tz);
    if (st.cal) {
      st.cal.setOption('timeZone', st.tz);
    }
  });

  /* ---- the calendar ---- */

  function startCalendar() {
    if (st.cal) {
      st.cal.refetchEvents();
      return;
    }
    const narrow = window.matchMedia('(max-width: 700px)').matches;
    st.cal = new FullCalendar.Calendar($('calendar'), {
      plugins: [FullCalendar.Luxon3.default || FullCalendar.Luxon3],
      timeZone: st.tz,
      initialView: narrow ? 'listWeek' : 'timeGridWeek',
      headerToolbar: narrow
        ? { left: 'prev,next today', center: 'title',
            right: 'dayGridMonth,timeGridWeek,listWeek' }
        : { left: 'prev,next today', center: 'title',
            right: 'dayGridMonth,timeGridWeek,listWeek' },
      buttonText: { today: 'Today', month: 'Month', week: 'Week',
                    list: 'List' },
      buttonHints: { prev: 'Previous $0', next: 'Next $0', today: 'Today' },
      views: {
        timeGridWeek: { contentHeight: Math.max(360, innerHeight - 230) },
        dayGridMonth: { contentHeight: 'auto' },
        listWeek: { contentHeight: Math.max(360, innerHeight - 230) },
      },
      firstDay: 1,
      nowIndicator: true,
      allDaySlot: false,
      slotEventOverlap: false,
      scrollTime: DateTime().now().setZone(st.tz).minus({ hours: 1 })
        .toFormat('HH:00:00'),
      defaultTimedEventDuration: '00:30:00',
      nextDayThreshold: '01:00:00',
      slotDuration: '00:30:00',
      displayEventEnd: false,
      eventTimeFormat: { hour: '2-digit', minute: '2-digit', hour12: false },
      slotLabelFormat: { hour: '2-digit', minute: '2-digit', hour12: false },
      dayMaxEvents: 4,
      eventInteractive: true,
      editable: true,
      eventDurationEditable: false,
      events: fetchEvents,
      eventContent: renderEvent,
      eventDidMount: (info) => {
        const p = info.event.extendedProps.post;
        const s = info.event.extendedProps.slot;
        keepFocus(info);
        info.el.setAttribute('aria-label', s
          ? 'Free slot of ' + s.name + ', ' + fmt(info.event.startStr)
            + ': create a post in it'
          : shownStatus(p) + ' post, ' + fmt(whenOf(p)) + ': '
            + caption(p));
      },
      eventClick: (info) => {
        info.jsEvent.preventDefault();
        const s = info.event.extendedProps.slot;
        if (s) {
          openNew({ queue: s.id });
        } else {
          openPost(info.event.extendedProps.post.id);
        }
      },
      eventDrop: moveByDrag,
      dateClick: (info) => {
        if (info.view.type !== 'dayGridMonth' || info.date > new Date()) {
          openNew({ at: info.date });
        }
      },
    });
    st.cal.render();
  }

  /* A refetch (the poll) renders the events anew: an event that had the
     keyboard's focus gets it back, so that polling never takes it away */
  document.addEventListener('focusin', (e) => {
    const ev = e.target.closest && e.target.closest('.fc-event');
    st.focusId = ev ? ev.dataset.id : null;
  });

  function keepFocus(info) {
    const a = document.activeElement;
    info.el.dataset.id = info.event.id;
    if (info.event.id && info.event.id === st.focusId
        && (!a || a === document.body || !a.isConnected)) {
      info.el.focus();
    }
  }

  function renderEvent(arg) {
    const s = arg.event.extendedProps.slot;
    if (s) {
      return { domNodes: [el('span', { class: 'ev' },
        el('span', { class: 'ev-time' }, arg.timeText),
        el('span', { class: 'ev-text' }, 'Free · ' + s.name))] };
    }
    const p = arg.event.extendedProps.post;
    const th = thumbOf(p);
    return { domNodes: [el('span', { class: 'ev' },
      th ? el('img', { class: 'thumb', src: th, alt: '', loading: 'lazy',
                       referrerpolicy: 'no-referrer' })
        : el('span', { class: 'thumb none', 'aria-hidden': 'true' },
             (p.platforms[0] || {}).params
             && p.platforms[0].params.format === 'image' ? '▦' : '▶'),
      el('span', { class: 'ev-time' }, arg.timeText),
      el('span', { class: 'ev-text' }, caption(p)))] };
  }

  async function fetchEvents(info, ok, fail) {
    try {
      const posts = await listAll('/api/posts', inGroup({
        scheduled_after: info.startStr ? toUtc(info.start) : undefined,
        scheduled_before: toUtc(info.end),
      }));
      /* posts without a time (published as soon as their media was
       * ready) are in no time filter: the newest 100, at when they went */
      const recent = await api('GET', '/api/posts', undefined,
                               inGroup({ per_page: 100 }));
      const t0 = info.start.getTime();
      const t1 = info.end.getTime();
      for (const p of recent.data || []) {
        const at = Date.parse(whenOf(p));
        if (!p.scheduled_at && !p.draft && at >= t0 && at < t1) {
          posts.push(p);
        }
      }
      const evs = posts.filter((p) => whenOf(p)).map(postEvent);
      if ($('show-slots').checked) {
        evs.push(...freeSlots(info.start, info.end, posts));
      }
      ok(evs);
    } catch (e) {
      if (st.key) {
        notice('Could not load the posts: ' + e.message, true);
      }
      fail(e);
    }
  }

  const whenOf = (p) => p.scheduled_at || (p.draft ? null
    : ((p.platforms || [])[0] || {}).attempted_at || p.created_at);

  /* half an hour long, but never into the next day (in the zone shown) */
  function endOf(iso) {
    const d = DateTime().fromISO(iso, { zone: st.tz });
    const e = d.plus({ minutes: 30 });
    return (e.day === d.day ? e : d.endOf('day')).toJSDate();
  }

  const toUtc = (d) => new Date(d.getTime()).toISOString()
    .replace(/\.\d{3}Z$/, 'Z');

  function postEvent(p) {
    const s = shownStatus(p);
    return {
      id: p.id,
      start: whenOf(p),
      end: endOf(whenOf(p)),
      allDay: false,
      classNames: ['post', 'st-' + s],
      editable: EDITABLE.includes(p.status) && s !== 'publishing',
      extendedProps: { post: p },
    };
  }

  /* the queue's weekly timeslots in [start, end), after now, that none of
   * its posts holds (a post's time is its slot +- jitter minutes) */
  function freeSlots(start, end, posts) {
    const out = [];
    const now = Date.now();
    for (const q of st.queues) {
      if (q.enabled === false || !(q.timeslots || []).length) {
        continue;
      }
      const taken = posts.filter((p) => p.queue_id === q.id && p.scheduled_at)
        .map((p) => Date.parse(p.scheduled_at));
      const tol = ((q.jitter || 0) + 1) * 60000;
      let day = DateTime().fromJSDate(start, { zone: q.timezone })
        .startOf('day');
      const last = end.getTime();
      for (let i = 0; i < 62 && day.toMillis() < last; i++) {
        const wd = day.weekday % 7;
        for (const ts of q.timeslots) {
          if (ts.day !== wd) {
            continue;
          }
          const [h, m] = ts.time.split(':').map(Number);
          const t = day.set({ hour: h, minute: m }).toMillis();
          if (t <= now || t < start.getTime() || t >= last
              || taken.some((x) => Math.abs(x - t) < tol)) {
            continue;
          }
          out.push({
            id: 'slot-' + q.id + '-' + t,
            start: new Date(t),
            end: endOf(new Date(t).toISOString()),
            allDay: false,
            editable: false,
            classNames: ['slot'],
            extendedProps: { slot: q },
          });
        }
        day = day.plus({ days: 1 });
      }
    }
    return out;
  }

  async function moveByDrag(info) {
    const p = info.event.extendedProps.post;
    const at = toUtc(info.event.start);
    try {
      const np = await api('PATCH', '/api/posts/' + p.id,
                           { post: { scheduled_at: at } }, inGroup());
      info.event.setExtendedProp('post', np);
      notice('Moved to ' + fmt(np.scheduled_at, true) + '.');
    } catch (e) {
      info.revert();
      notice(moveError(e), true);
    }
  }

  function moveError(e) {
    if (e.status === 409) {
      return 'This post cannot be moved any more: ' + e.message
        + '. It stays where it was.';
    }
    return 'Could not move the post: ' + e.message;
  }

  $('show-slots').addEventListener('change', () => refresh());

  /* ---- drafts ---- */

  async function loadDrafts() {
    const drafts = await listAll('/api/posts', inGroup({ status: 'draft' }));
    const ul = $('drafts');
    if (!drafts.length) {
      ul.replaceChildren(el('li', { class: 'hint' }, 'No drafts.'));
      return;
    }
    ul.replaceChildren(...drafts.map((p) => el('li', {},
      el('button', { type: 'button', class: 'draft',
                     onclick: () => openPost(p.id) },
        caption(p), el('span', { class: 'hint' },
          p.scheduled_at ? ' · ' + fmt(p.scheduled_at) : ' · no time')))));
  }

  /* ---- polling ---- */

  function refresh() {
    if (!st.cal) {
      return Promise.resolve();
    }
    st.cal.refetchEvents();
    return loadDrafts().catch((e) => notice(e.message, true));
  }

  async function poll() {
    clearTimeout(st.timer);
    if (!st.key) {
      return;
    }
    if (!document.hidden) {
      try {
        await refresh();
        if (st.open && $('post-dialog').open && st.deleting !== st.open.id) {
          const p = await api('GET', '/api/posts/' + st.open.id, undefined,
                              inGroup());
          showPost(p, true);
        }
      } catch (e) {
        if (e.status !== 404 && st.key) {
          notice(e.message, true);
        }
      }
    }
    st.timer = setTimeout(poll, POLL_MS);
  }

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && st.key) {
      poll();
    }
  });

  /* ---- one post ---- */

  async function openPost(id) {
    try {
      const p = await api('GET', '/api/posts/' + id, undefined, inGroup());
      $('post-error').textContent = '';
      $('post-delete-confirm').hidden = true;
      showPost(p, false);
      if (!$('post-dialog').open) {
        $('post-dialog').showModal();
      }
    } catch (e) {
      notice(e.message, true);
    }
  }

  function row(name, ...value) {
    return [el('dt', {}, name), el('dd', {}, ...value)];
  }

  function showPost(p, live) {
    st.open = p;
    const s = shownStatus(p);
    const pl = (p.platforms || [])[0];
    const q = st.queues.find((x) => x.id === p.queue_id);
    $('post-title').textContent = caption(p);
    const body = [
      el('p', {}, el('span', { class: 'badge st-' + s }, s),
         ' post status ', el('code', {}, p.status)),
      el('p', { class: 'caption' }, p.body || '(no caption)'),
      el('dl', {},
        row('Time', p.scheduled_at ? fmt(p.scheduled_at, true) : 'none'),
        q ? row('Queue', q.name + ', ' + (p.queue_priority || 'medium')
                + ' priority') : [],
        row('Id', el('code', {}, p.id))),
      el('h3', {}, 'Media'),
      el('ul', { class: 'media' }, (p.media || []).map(mediaItem)),
    ];
    if (pl) {
      body.push(el('h3', {}, 'TikTok'), platformInfo(pl));
    }
    $('post-body').replaceChildren(...body);
    const editable = EDITABLE.includes(p.status) && s !== 'publishing';
    $('post-when').disabled = !editable;
    $('post-move').disabled = !editable;
    if (!live || document.activeElement !== $('post-when')) {
      if (!live) {
        $('post-when').value = p.scheduled_at ? isoToLocal(p.scheduled_at)
          : '';
      }
    }
    $('post-move').textContent = p.draft ? 'Schedule at this time'
      : 'Save time';
    $('post-publish').hidden = !(editable || s === 'failed');
    $('post-publish').textContent = s === 'failed' ? 'Try again now'
      : 'Publish now';
  }

  function mediaItem(m) {
    const facts = [m.content_type, m.size ? fmtBytes(m.size) : null,
      m.width ? m.width + '×' + m.height : null,
      m.duration_ms ? (m.duration_ms / 1000).toFixed(1) + ' s' : null,
      m.codec, m.frame_rate ? m.frame_rate + ' fps' : null]
      .filter(Boolean).join(', ');
    return el('li', {},
      el('a', { href: m.source_url, target: '_blank',
                rel: 'noopener noreferrer' }, m.source_url),
      el('br'),
      el('span', { class: 'badge m-' + m.status }, 'check: ' + m.status),
      facts ? ' ' + facts : '',
      m.error_message ? el('p', { class: 'error' }, m.error_message) : null,
      (m.warnings || []).map((w) => el('p', { class: 'warn' }, w)));
  }

  function fmtBytes(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB'
      : Math.max(1, Math.round(n / 1024)) + ' kB';
  }

  function platformInfo(pl) {
    const prof = st.profiles.find((x) => x.id === pl.profile_id);
    const up = pl.upload || {};
    const d = pl.error_details || {};
    const params = pl.params || {};
    return el('dl', {},
      row('Account', prof ? '@' + (prof.username || prof.name) : pl.profile_id),
      row('Status', el('span', { class: 'pl-status' }, pl.status)),
      row('Privacy', params.privacy_status || '—', ' · ',
          params.post_mode || 'DIRECT_POST', ' · ', params.format || 'video'),
      row('Attempts', String(pl.attempts || 0),
          pl.attempted_at ? ' · last ' + fmt(pl.attempted_at) : '',
          pl.next_attempt_at ? ' · next ' + fmt(pl.next_attempt_at) : ''),
      row('Upload', up.bytes_total
        ? [el('progress', { max: up.bytes_total, value: up.bytes_sent || 0,
                            'aria-label': 'Upload progress' }),
           ' ' + fmtBytes(up.bytes_sent || 0) + ' of '
           + fmtBytes(up.bytes_total)]
        : 'not started'),
      pl.publish_id ? row('Publish id', el('code', {}, pl.publish_id)) : [],
      pl.url ? row('Permalink', el('a', { href: pl.url, target: '_blank',
        rel: 'noopener noreferrer', class: 'permalink' }, pl.url)) : [],
      pl.status === 'published' && !pl.url
        ? row('Permalink', 'waiting for TikTok\'s moderation') : [],
      pl.error ? row('Error', el('span', { class: 'error pl-error' },
        pl.error,
        d.platform_error_message ? ' — TikTok: "' + d.platform_error_message
          + '"' + (d.platform_error_code ? ' (' + d.platform_error_code + ')'
          : '') : '',
        d.note ? el('br') : null, d.note || '')) : []);
  }

  function postAction(fn, okMsg) {
    return async () => {
      const p = st.open;
      if (!p) {
        return;
      }
      $('post-error').textContent = '';
      try {
        const r = await fn(p);
        notice(okMsg(r, p));
        if (r && r.id) {
          showPost(r, false);
        }
        refresh();
      } catch (e) {
        $('post-error').textContent = e.status === 409
          ? 'Not possible any more: ' + e.message + '.' : e.message;
      }
    };
  }

  $('post-move').addEventListener('click', postAction(async (p) => {
    const at = localToIso($('post-when').value);
    if (!at) {
      throw new Error('Choose a date and time.');
    }
    const body = { post: { scheduled_at: at } };
    if (p.draft) {
      body.post.draft = false;
    }
    return api('PATCH', '/api/posts/' + p.id, body, inGroup());
  }, (r) => 'Scheduled for ' + fmt(r.scheduled_at, true) + '.'));

  $('post-publish').addEventListener('click', postAction(
    (p) => api('POST', '/api/posts/' + p.id + '/publish', {}, inGroup()),
    () => 'Publishing now.'));

  $('post-delete').addEventListener('click', () => {
    $('post-delete-confirm').hidden = false;
    $('post-delete-confirm').focus();
  });

  $('post-delete-confirm').addEventListener('click', postAction(async (p) => {
    /* the poll must not ask for the post while it is being deleted: its
       GET would come back 404, an error in the console */
    st.deleting = p.id;
    try {
      await api('DELETE', '/api/posts/' + p.id, undefined, inGroup());
    } finally {
      st.deleting = null;
    }
    st.open = null;
    $('post-dialog').close();
    return null;
  }, (r, p) => 'Deleted "' + caption(p) + '".'));

  $('post-dialog').addEventListener('close', () => { st.open = null; });

  /* ---- a new post ---- */

  function openNew(o) {
    const f = $('new-form');
    f.reset();
    $('new-errors').replaceChildren();
    const prof = groupProfile();
    $('new-account').textContent = prof
      ? 'Posts as @' + (prof.username || prof.name) + '.'
      : 'This group has no TikTok account: connect one first.';
    $('new-queue').replaceChildren(...st.queues.map((q) =>
      el('option', { value: q.id }, q.name + ' (' + q.timezone + ')')));
    const when = o && o.queue ? 'queue' : 'time';
    f.querySelector('input[name=when][value=' + when + ']').checked = true;
    if (o && o.queue) {
      $('new-queue').value = o.queue;
    }
    const at = o && o.at ? o.at : new Date(Date.now() + 3600000);
    $('new-at').value = DateTime().fromJSDate(at, { zone: st.tz })
      .toFormat("yyyy-LL-dd'T'HH:mm");
    formChanged();
    $('new-dialog').showModal();
    $('new-body').focus();
  }

  function formChanged() {
    const format = $('new-format').value;
    const n = $('new-body').value.length;     /* UTF-16 units, as TikTok */
    const lim = LIMITS[format];
    const c = $('new-count');
    c.textContent = n.toLocaleString('en') + ' / ' + lim.toLocaleString('en')
      + ' characters' + (format === 'image' ? ' (photo description)'
      : ' (video caption)') + (n > lim ? ': ' + (n - lim) + ' too many' : '');
    c.classList.toggle('over', n > lim);
    $('new-body').setAttribute('aria-invalid', n > lim ? 'true' : 'false');
    document.querySelectorAll('#new-form .video-only').forEach((e) => {
      e.hidden = format !== 'video';
    });
    document.querySelectorAll('#new-form .image-only').forEach((e) => {
      e.hidden = format !== 'image';
    });
    const when = $('new-form').querySelector('input[name=when]:checked').value;
    document.querySelector('#new-form .when-time').hidden = when !== 'time';
    document.querySelector('#new-form .when-queue').hidden = when !== 'queue';
  }

  $('new-form').addEventListener('input', formChanged);
  $('new-form').addEventListener('change', formChanged);
  $('new-post').addEventListener('click', () => openNew());

  function newBody() {
    const format = $('new-format').value;
    const tk = { privacy_status: $('new-privacy').value, format,
                 post_mode: $('new-mode').value };
    const opts = ['disable_comment', 'brand_organic_toggle',
      'brand_content_toggle', 'made_with_ai'].concat(format === 'video'
      ? ['disable_duet', 'disable_stitch'] : ['auto_add_music']);
    for (const o of opts) {
      if ($('opt-' + o).checked) {
        tk[o] = true;
      }
    }
    if (format === 'video' && $('new-cover').value !== '') {
      tk.video_cover_timestamp_ms = Number($('new-cover').value);
    }
    if (format === 'image' && $('new-photo-cover').value !== '') {
      tk.photo_cover_index = Number($('new-photo-cover').value) - 1;
    }
    const b = {
      post: { body: $('new-body').value },
      profiles: ['tiktok'],
      media: $('new-media').value.split('\n').map((s) => s.trim())
        .filter(Boolean),
      platforms: { tiktok: tk },
    };
    const when = $('new-form').querySelector('input[name=when]:checked').value;
    const errs = [];
    if (when === 'time') {
      b.post.scheduled_at = localToIso($('new-at').value);
      if (!b.post.scheduled_at) {
        errs.push('Choose a date and time, or another "When".');
      }
    } else if (when === 'queue') {
      b.queue_id = $('new-queue').value;
      b.queue_priority = $('new-priority').value;
      if (!b.queue_id) {
        errs.push('This group has no queue.');
      }
    } else if (when === 'draft') {
      b.post.draft = true;
    }
    if (!tk.privacy_status) {
      errs.push('Choose who can view the post.');
    }
    if (!b.media.length) {
      errs.push('Give at least one media URL.');
    }
    if (b.post.body.length > LIMITS[format]) {
      errs.push('The caption is too long for TikTok.');
    }
    return { b, errs };
  }

  $('new-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { b, errs } = newBody();
    const ul = $('new-errors');
    if (errs.length) {
      ul.replaceChildren(...errs.map((e) => el('li', {}, e)));
      return;
    }
    ul.replaceChildren();
    try {
      const p = await api('POST', '/api/posts', b, inGroup());
      $('new-dialog').close();
      notice(p.draft ? 'Draft saved.' : p.scheduled_at
        ? 'Created for ' + fmt(p.scheduled_at, true) + '.'
        : 'Created: it publishes once its media is checked.');
      if (p.scheduled_at && st.cal) {
        st.cal.gotoDate(new Date(p.scheduled_at));
      }
      refresh();
    } catch (e) {
      const list = e.body && Array.isArray(e.body.errors) ? e.body.errors
        : [e.message];
      ul.replaceChildren(...list.map((m) => el('li', {}, m)));
    }
  });

  /* ---- connecting a TikTok account ---- */

  $('connect').addEventListener('click', async () => {
    try {
      const back = location.origin + location.pathname;
      const r = await api('POST', '/api/profile_groups/' + st.group
        + '/initialize_connection', { platform: 'tiktok',
        redirect_url: back });
      location.assign(r.url);
    } catch (e) {
      notice('Could not start connecting: ' + e.message, true);
    }
  });

  const REASONS = {
    access_denied: 'you declined on TikTok',
    state_used: 'the link was used already: start again',
    state_expired: 'the link expired: start again',
    missing_scope: 'a permission was not granted: allow every one asked',
    exchange_failed: 'TikTok refused the sign-in code',
    group_has_profile: 'this group already holds another TikTok account',
    group_deleted: 'the group was deleted',
    exchange_timeout: 'the scheduler did not answer: is it running?',
    authorization_failed: 'TikTok reported an error',
  };

  function afterConnect() {
    const q = new URLSearchParams(location.search);
    const status = q.get('status');
    if (!status) {
      return;
    }
    if (status === 'connected') {
      notice('TikTok account connected.');
    } else {
      const r = q.get('reason') || '';
      notice('The TikTok account was not connected: '
        + (REASONS[r] || r || 'unknown reason') + '.', true);
    }
    history.replaceState(null, '', location.pathname);
  }

  /* ---- start ---- */

  window.addEventListener('DOMContentLoaded', () => {
    fillZones();
    if (st.key) {
      signIn(st.key).catch((e) => signOut(e.status === 401
        ? 'Your API key is no longer accepted: sign in again.' : e.message));
    } else {
      signOut('');
    }
  });
})();
