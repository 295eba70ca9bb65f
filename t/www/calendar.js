// The calendar page in Debian's chromium (headless), driven by
// playwright-core: run by t/www.t, which starts the stack, seeds it and
// passes what it made in WWW_* variables.  Prints "ok - ..." or
// "not ok - ..." per check; any other line is a diagnostic.
'use strict';

const { chromium } = require('playwright-core');
const E = process.env;

let bad = 0;
function ok(cond, msg, why) {
  console.log((cond ? 'ok' : 'not ok') + ' - ' + msg);
  if (!cond) {
    bad++;
    if (why !== undefined) {
      console.log('# ' + String(why).split('\n').join('\n# '));
    }
  }
  return cond;
}

async function api(method, path, body) {
  const r = await fetch(new URL(path, E.WWW_BASE), {
    method,
    headers: Object.assign({ Authorization: 'Bearer ' + E.WWW_KEY },
      body ? { 'Content-Type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}

async function until(fn, ms, what) {
  const end = Date.now() + (ms || 30000);
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) {
      return last;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out waiting for ' + (what || 'a condition'));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// console errors, each with the phase it came in; a phase may expect the
// browser's own line for an HTTP error the page provoked on purpose
const errors = [];
let phase = 'start';
const allowed = { 'wrong key': [401], conflict: [409] };

async function newPage(browser, viewport, zone) {
  const ctx = await browser.newContext({ viewport, locale: 'en-GB',
                                         timezoneId: zone || 'Europe/Paris' });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') {
      errors.push({ phase, text: m.text() });
    }
  });
  page.on('pageerror', (e) => errors.push({ phase, text: String(e) }));
  page.on('response', (r) => {
    if (r.status() >= 400) {
      console.log('# ' + phase + ': ' + r.status() + ' ' + r.request().method()
                  + ' ' + r.url());
    }
  });
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: E.WWW_SHOTS + '/' + name + '.png' });
}

async function signIn(page, key) {
  await page.fill('#api-key', key);
  await page.click('#signin-form button[type=submit]');
}

// back to this week (the button is disabled when the week is shown)
async function today(page) {
  if (await page.isEnabled('.fc-today-button')) {
    await page.click('.fc-today-button');
    await page.waitForTimeout(300);
  }
}

// the event of a post, going forward a week or two if it is not shown
async function findEvent(page, text) {
  for (let i = 0; i < 3; i++) {
    const ev = page.locator('.fc-event.post', { hasText: text });
    const end = Date.now() + 3000;
    while (Date.now() < end) {
      if (await ev.count()) {
        return ev.first();
      }
      await page.waitForTimeout(200);
    }
    await page.click('.fc-next-button');
  }
  throw new Error('no event with "' + text + '" in three weeks');
}

// drags an event of the week view to a column (a date) and a slot (a time
// not far from the event's: both are in view at once).  The column and
// the boxes are each read in one go, again while the calendar re-renders
// (it polls, and an event it replaced is no longer in a column).
async function drag(page, from, col, time) {
  const at = await until(async () => from.evaluate((e) => {
    e.scrollIntoView({ block: 'center' });
    const c = e.closest('.fc-timegrid-col');
    return c && c.getAttribute('data-date');
  }).catch(() => null), 10000, 'the column of a dragged event');
  if (at !== col) {
    throw new Error('the event is on ' + at + ', not on ' + col);
  }
  const boxes = await until(async () => {
    const ev = await from.elementHandle({ timeout: 2000 }).catch(() => null);
    return ev && ev.evaluate((e, [c, t]) => {
      const box = (x) => {
        const r = x && x.getBoundingClientRect();
        return r && r.width > 0 && r.height > 0 ? r.toJSON() : null;
      };
      const b = { ev: box(e),
        col: box(document.querySelector('.fc-timegrid-col[data-date="' + c
                                        + '"]')),
        slot: box(document.querySelector('.fc-timegrid-slot-lane[data-time="'
                                         + t + '"]')) };
      return b.ev && b.col && b.slot && e.isConnected ? b : null;
    }, [col, time]).catch(() => null);
  }, 10000, 'the boxes of a drag');
  const x0 = boxes.ev.x + boxes.ev.width / 2;
  const y0 = boxes.ev.y + Math.min(6, boxes.ev.height / 2);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move(x0 + 5, y0 + 5, { steps: 5 });
  await page.mouse.move(boxes.col.x + boxes.col.width / 2, boxes.slot.y + 4,
                        { steps: 15 });
  await page.mouse.up();
}

// the UTC ISO time of a wall time in a zone, by the page's own luxon
function utcOf(page, date, time, zone) {
  return page.evaluate(([d, t, z]) => window.luxon.DateTime
    .fromISO(d + 'T' + t, { zone: z }).toUTC()
    .toISO({ suppressMilliseconds: true }), [date, time, zone]);
}

// every visible control has a name a screen reader reads
function unnamedControls(page) {
  return page.evaluate(() => {
    const out = [];
    for (const e of document.querySelectorAll(
      'button, input, select, textarea, a[href]')) {
      if (!e.offsetParent && e.type !== 'radio') {
        continue;
      }
      const name = (e.getAttribute('aria-label') || '')
        || (e.labels && [...e.labels].map((l) => l.textContent).join(''))
        || (e.getAttribute('aria-labelledby') || '')
        || (e.tagName === 'BUTTON' || e.tagName === 'A'
          ? e.textContent + (e.title || '') : '')
        || e.title;
      if (!name.trim()) {
        out.push(e.outerHTML.slice(0, 120));
      }
    }
    return out;
  });
}

async function tabTo(page, test, max) {
  for (let i = 0; i < (max || 40); i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(test)) {
      return true;
    }
  }
  return false;
}

async function desktop(browser) {
  const page = await newPage(browser, { width: 1280, height: 800 });
  await page.goto(E.WWW_BASE + '?poll=1000');

  // sign in: a wrong key, then the right one
  phase = 'wrong key';
  await page.waitForSelector('#signin-form');
  await signIn(page, 'not-a-key');
  await page.waitForSelector('#signin-error:has-text("Wrong API key")');
  ok(true, 'a wrong key says so');
  ok(await page.evaluate(() => sessionStorage.length === 0),
     'and is not kept');
  await shot(page, 'signin-1280');
  phase = 'calendar';
  await signIn(page, E.WWW_KEY);
  await page.waitForSelector('.fc-timegrid');
  ok(await page.evaluate((k) => Object.values(sessionStorage).includes(k)
     && !Object.values(localStorage).includes(k), E.WWW_KEY),
     'the key is kept for the tab (sessionStorage), not beyond');
  ok(await page.inputValue('#tz') === 'Europe/Paris',
     'the time zone is the browser\'s by default');

  // the seeded posts, by status colour
  await page.waitForSelector('.fc-event.post');
  const pub = page.locator('.fc-event.post.st-published');
  await until(async () => await pub.count() > 0, 15000, 'a published post');
  ok(await pub.first().textContent().then((t) => /Already live/.test(t)),
     'the published post is on today, green');
  const failed = page.locator('.fc-event.post.st-failed',
                              { hasText: 'Refused by TikTok' });
  ok(await failed.count() === 1, 'the post TikTok refused is red');
  const w0 = await findEvent(page, 'Week post 0');
  ok(/st-scheduled/.test(await w0.getAttribute('class')),
     'a scheduled post of the week, blue');
  await today(page);
  await findEvent(page, 'Week post 1');
  const thumb = page.locator('.fc-event.post', { hasText: 'Week post 1' })
    .locator('img.thumb');
  ok(await thumb.count() === 1
     && /photo1\.jpg$/.test(await thumb.getAttribute('src')),
     'a photo post shows its thumbnail');
  await today(page);

  // the queue's free slots: 18:00 UTC each day, but the one its post has:
  // in the queued post's week, and in the next when its week has none
  // left (after Saturday's 18:00 the post holds Sunday's, the last)
  const q = (await api('GET', '/api/posts?per_page=100'))
    .json.data.find((p) => p.queue_id === E.WWW_QUEUE);
  const qEv = await findEvent(page, 'Queued: evergreen');
  const qLabel = await qEv.getAttribute('aria-label');
  const qWhen = (qLabel.match(/, (.*?): /) || [])[1];
  const slots = page.locator('.fc-event.slot');
  const labelsOf = () => slots.evaluateAll((l) => l.map((e) =>
    e.getAttribute('aria-label')));
  const labels = await labelsOf();
  ok(qWhen && !labels.some((l) => l.includes(qWhen)),
     'the slot the queued post took is not shown free', qLabel);
  if (labels.length === 0) {
    await page.click('.fc-next-button');
  }
  await until(async () => await slots.count() > 0, 10000, 'free slots');
  ok(q && await slots.count() > 0, 'the queue\'s free slots are shown: '
     + await slots.count() + ' in a week');
  await shot(page, 'week-1280');
  await today(page);

  // month and list views
  await page.click('.fc-dayGridMonth-button');
  await page.waitForSelector('.fc-daygrid-event.post');
  ok(await page.locator('.fc-daygrid-event.post').count() >= 4,
     'the month view shows the posts');
  await shot(page, 'month-1280');
  await page.click('.fc-listWeek-button');
  await page.waitForSelector('.fc-list-event');
  ok(await page.locator('.fc-list-event', { hasText: 'Already live' })
     .isVisible(), 'the list view shows the posts');
  await shot(page, 'list-1280');
  await page.click('.fc-timeGridWeek-button');

  // another time zone: a post at its wall time there
  const tz = 'Asia/Tokyo';
  await page.selectOption('#tz', tz);
  const p0 = (await api('GET', '/api/posts/' + E.WWW_WEEK.split(',')[0]))
    .json;
  const hhmm = new Intl.DateTimeFormat('en-GB', { timeZone: tz,
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(p0.scheduled_at));
  const ev0 = await findEvent(page, 'Week post 0');
  ok((await ev0.locator('.ev-time').textContent()).startsWith(hhmm),
     'in ' + tz + ' a post shows at ' + hhmm);
  await today(page);

  // create a post: the caption's count, then a time in Tokyo
  await page.click('#new-post');
  await page.fill('#new-body', 'Launch 🚀 day');
  ok((await page.textContent('#new-count')).startsWith('13 / 2,200'),
     'the caption counts UTF-16 units against 2,200 (an emoji is two)');
  await page.selectOption('#new-format', 'image');
  ok((await page.textContent('#new-count')).startsWith('13 / 4,000'),
     'a photo description against 4,000');
  await page.selectOption('#new-format', 'video');
  await page.fill('#new-body', 'x'.repeat(2201));
  ok(/1 too many/.test(await page.textContent('#new-count'))
     && await page.getAttribute('#new-body', 'aria-invalid') === 'true',
     'a caption over the limit says so');
  ok((await unnamedControls(page)).length === 0,
     'every control of the new post form has a label',
     (await unnamedControls(page)).join('\n'));
  await shot(page, 'new-post-1280');
  await page.fill('#new-body', 'Made in the calendar 🚀');
  await page.fill('#new-media', E.WWW_VIDEO);
  await page.selectOption('#new-privacy', 'PUBLIC_TO_EVERYONE');
  await page.check('#opt-disable_duet');
  const tomorrow = await page.evaluate((z) => window.luxon.DateTime.now()
    .setZone(z).plus({ days: 1 }).toFormat('yyyy-LL-dd'), tz);
  await page.fill('#new-at', tomorrow + 'T11:00');
  await page.click('#new-form button[type=submit]');
  await page.waitForSelector('#new-dialog:not([open])', { state: 'attached' });
  const want = await utcOf(page, tomorrow, '11:00', tz);
  const made = await until(async () => (await api('GET',
    '/api/posts?per_page=100')).json.data.find((p) =>
    p.body === 'Made in the calendar 🚀'), 10000, 'the new post');
  ok(made.scheduled_at === want && made.platforms[0].params.disable_duet,
     'the post is created at 11:00 in Tokyo (' + want + '), its options set',
     JSON.stringify(made));
  await until(async () => (await api('GET', '/api/posts/' + made.id))
    .json.status === 'scheduled', 30000, 'the media checked');

  // drag it to 13:00 the same day
  const mine = await findEvent(page, 'Made in the calendar');
  await drag(page, mine, tomorrow, '13:00:00');
  const want2 = await utcOf(page, tomorrow, '13:00', tz);
  const moved = await until(async () => {
    const p = (await api('GET', '/api/posts/' + made.id)).json;
    return p.scheduled_at === want2 ? p : null;
  }, 10000, 'the PATCH of the drag').catch((e) => e);
  ok(moved && moved.id, 'dragged to 13:00 in Tokyo: the store has '
     + want2, moved);
  await page.waitForSelector('#notice:has-text("Moved to")');
  ok(true, 'the page says where it moved');

  // open it, publish it now, watch it turn published without a reload
  await (await findEvent(page, 'Made in the calendar')).click();
  await page.waitForSelector('#post-dialog[open]');
  ok(/check: processed/.test(await page.textContent('#post-body')),
     'the post shows its media checks');
  await page.click('#post-publish');
  await until(async () => (await page.textContent('#post-dialog .pl-status'))
    === 'published', 45000, 'published in the dialog');
  ok(true, 'publish now: the open post turns published by itself');
  await shot(page, 'published-1280');
  await page.keyboard.press('Escape');
  await today(page);
  await until(async () => await page.locator('.fc-event.post.st-published',
    { hasText: 'Made in the calendar' }).count() === 1, 15000,
    'the event turns green').catch(async (e) => {
    console.log('# ' + await page.textContent('.fc-toolbar-title') + ' '
      + (await page.locator('.fc-event.post').evaluateAll((l) => l.map((x) =>
        x.className + ' ' + x.getAttribute('aria-label')))).join('\n# '));
    throw e;
  });
  ok(true, 'and its event turns green without a reload');

  // the failed post: TikTok's reason
  await today(page);
  await page.locator('.fc-event.post.st-failed').first().click();
  await page.waitForSelector('#post-dialog[open] .pl-error');
  const err = await page.textContent('#post-dialog .pl-error');
  ok(/too many posts today/.test(err) && /spam_risk_too_many_posts/.test(err),
     'a failure shows TikTok\'s message and code', err);
  ok(await page.isVisible('#post-publish'), 'and offers to try again');
  await shot(page, 'failed-1280');
  await page.keyboard.press('Escape');

  // drafts in the side list; delete one
  const d = page.locator('#drafts button', { hasText: 'summer launch' });
  ok(await d.count() === 1, 'the draft is in the side list');
  await d.click();
  await page.waitForSelector('#post-dialog[open]');
  await page.click('#post-delete');
  await page.click('#post-delete-confirm');
  await page.waitForSelector('#notice:has-text("Deleted")');
  await until(async () => await d.count() === 0, 10000, 'the draft gone');
  ok(true, 'deleted: the draft leaves the list');

  // the keyboard: the main controls, a post, the dialog
  await page.evaluate(() => document.activeElement.blur());
  await page.focus('body');
  ok(await tabTo(page, () => document.activeElement.id === 'new-post'),
     'Tab reaches "New post"');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#new-dialog[open]');
  ok(await page.evaluate(() => document.activeElement.id === 'new-body'),
     'Enter opens the form, the caption focused');
  await page.keyboard.press('Escape');
  ok(await tabTo(page, () => document.activeElement.classList
     .contains('fc-next-button')), 'Tab reaches the calendar\'s "Next"');
  const title = await page.textContent('.fc-toolbar-title');
  await page.keyboard.press('Enter');
  ok(await page.textContent('.fc-toolbar-title') !== title,
     'Enter on it moves the calendar');
  await today(page);
  ok(await tabTo(page, () => document.activeElement.matches('.fc-event.post'),
                 80), 'Tab reaches a post');
  const focused = await page.evaluate(() => document.activeElement.dataset.id);
  await page.waitForTimeout(3000);
  ok(await page.evaluate((id) => document.activeElement.matches('.fc-event')
     && document.activeElement.dataset.id === id, focused),
  'the polls that re-render the calendar keep the post focused');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#post-dialog[open]');
  ok(true, 'Enter opens it');
  await page.keyboard.press('Escape');
  ok((await unnamedControls(page)).length === 0,
     'every control of the page has a label',
     (await unnamedControls(page)).join('\n'));

  await page.click('#signout');
  await page.waitForSelector('#signin-form');
  ok(await page.evaluate(() => sessionStorage.length === 0),
     'sign out forgets the key');
  await page.context().close();
}

// a 409: the post started publishing behind the page's back (this page
// polls rarely, so it still shows the post scheduled)
async function conflict(browser) {
  const page = await newPage(browser, { width: 1280, height: 800 });
  await page.goto(E.WWW_BASE + '?poll=600000');
  await signIn(page, E.WWW_KEY);
  await page.waitForSelector('.fc-timegrid');
  const id = E.WWW_WEEK.split(',')[2];
  const ev = await findEvent(page, 'Week post 2');
  const r = await api('POST', '/api/posts/' + id + '/publish', {});
  ok(r.status === 200, 'the post is published behind the page\'s back',
     JSON.stringify(r));
  // published for good: a post claimed but not yet sent to TikTok may
  // still be moved, so "no longer scheduled" is not enough to expect a 409
  await until(async () => ((await api('GET', '/api/posts/' + id)).json
    .platforms[0] || {}).status === 'published', 90000, 'the post published');
  phase = 'conflict';
  const date = await ev.evaluate((e) => e.closest('.fc-timegrid-col')
    .getAttribute('data-date'));
  const h = Number((await ev.locator('.ev-time').textContent()).slice(0, 2));
  // two hours away: a post at hh:55 starts in the next half hour's row,
  // where a drag to (hh + 1):00 would not move it at all
  await drag(page, ev, date, String(h < 22 ? h + 2 : h - 2)
    .padStart(2, '0') + ':00:00');
  await page.waitForSelector('#notice.bad');
  const n = await page.textContent('#notice');
  ok(/cannot be moved any more/.test(n) && /published/.test(n),
     'a drag of a post that started publishing shows the 409 in words', n);
  await shot(page, 'conflict-1280');
  phase = 'calendar';
  await page.context().close();
}

async function phone(browser) {
  const page = await newPage(browser, { width: 390, height: 844 },
                             'America/New_York');
  await page.goto(E.WWW_BASE);
  await signIn(page, E.WWW_KEY);
  await page.waitForSelector('.fc-list-event');
  ok(await page.inputValue('#tz') === 'America/New_York',
     'the phone\'s time zone by default');
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  ok(w <= 390, 'at 390×844 nothing is wider than the window: ' + w);
  ok(await page.locator('.fc-list-event', { hasText: 'Already live' })
     .isVisible(), 'the list of the week on a phone');
  await shot(page, 'list-390');
  await page.click('.fc-timeGridWeek-button');
  await page.waitForSelector('.fc-timegrid');
  await shot(page, 'week-390');
  await page.click('#new-post');
  await page.waitForSelector('#new-dialog[open]');
  const dw = await page.evaluate(() =>
    document.querySelector('#new-dialog').getBoundingClientRect().right);
  ok(dw <= 390, 'the new post form fits the phone: right edge ' + dw);
  await shot(page, 'new-post-390');
  await page.keyboard.press('Escape');

  // connect the TikTok account again through TikTok's OAuth flow
  await page.click('#connect');
  await page.waitForURL((u) => u.searchParams.get('status') === null
    && u.origin === new URL(E.WWW_BASE).origin && u.pathname === '/',
  { timeout: 30000 });
  await page.waitForSelector('#notice:has-text("TikTok account connected")');
  ok(true, 'Connect TikTok: through TikTok\'s consent and back, connected');
  await page.context().close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: E.WWW_CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    await desktop(browser);
    await conflict(browser);
    await phone(browser);
  } catch (e) {
    ok(false, 'the browser steps ran to their end', e.stack);
  }
  await browser.close();
  const unexpected = errors.filter((e) => {
    const m = /status of (\d+)/.exec(e.text);
    return !(m && (allowed[e.phase] || []).includes(Number(m[1])));
  });
  ok(unexpected.length === 0, 'no errors in the browser\'s console',
     unexpected.map((e) => e.phase + ': ' + e.text).join('\n'));
  process.exit(bad ? 1 : 0);
})();
