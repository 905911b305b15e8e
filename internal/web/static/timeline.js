// timeline.js: "N new posts" on the newest page of the timeline.
//
// The member's event stream (live-worker.js, opened with ?timeline=1 while
// a tab shows the timeline) brings the ids of the site's newest posts;
// natter.js hands them on as the document event 'natter:posts'. This
// counts those newer than the newest post on the page, says so in a
// button above the list, and on a click fetches them and puts them on top,
// without a reload. Without JavaScript nothing changes: the page is what
// the server rendered.
(() => {
  'use strict';

  const list = document.querySelector('[data-live-timeline]');
  const box = document.getElementById('new-posts');
  const button = box && box.querySelector('button');
  if (!list || !button) return;

  const postId = (article) => {
    const link = article.querySelector('a.permalink[href^="/post/"]');
    const id = link ? Number.parseInt(link.getAttribute('href').slice('/post/'.length), 10) : NaN;
    return Number.isFinite(id) ? id : 0;
  };
  const shown = () => [...list.querySelectorAll('article.post')];
  // The newest post on the page; posts above it are new.
  let top = Math.max(0, ...shown().map(postId));
  let news = {recent: [], full: false};
  let loading = false;

  // Posts newer than top that the page shows already (a reply the member
  // just wrote in place, under the post it answers) are not waiting.
  const onPage = () => new Set(shown().map(postId));

  function waiting() {
    const here = onPage();
    return news.recent.filter((id) => Number.isInteger(id) && id > top && !here.has(id));
  }

  function show() {
    const ids = waiting();
    if (ids.length === 0) {
      button.hidden = true;
      button.textContent = '';
      return;
    }
    // All the ids the stream sent are new, and it left older ones out:
    // there may be more than it said.
    const more = news.full && ids.length === news.recent.length ? '+' : '';
    const text = ids.length === 1 && !more ? '1 new post' : `${ids.length}${more} new posts`;
    if (button.textContent !== text) button.textContent = text;
    button.hidden = false;
  }

  document.addEventListener('natter:posts', (e) => {
    const {recent, full} = e.detail || {};
    if (!Array.isArray(recent)) return;
    news = {recent, full: Boolean(full)};
    show();
  });

  // Fetches the posts just newer than the newest shown (?after=, which
  // reads at most a page of them; or the newest page, full, when fewer are
  // newer) and puts those the page lacks on top. More than a page waiting:
  // the button stays, for the next page of them.
  async function load() {
    if (loading) return;
    loading = true;
    button.disabled = true;
    try {
      const url = new URL(location.pathname, location.href);
      if (top > 0) url.searchParams.set('after', String(top)); // else the newest page
      const response = await fetch(url, {headers: {Accept: 'text/html'}, credentials: 'same-origin'});
      if (!response.ok || response.redirected) return;
      const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      const fetched = doc.querySelectorAll('#timeline article.post');
      const here = onPage();
      const fresh = [...fetched].filter((a) => postId(a) > top && !here.has(postId(a)));
      fresh.sort((a, b) => postId(b) - postId(a)); // newest first, as the list
      const first = list.querySelector('article.post');
      for (const article of fresh) {
        list.insertBefore(document.importNode(article, true), first);
      }
      if (fresh.length > 0) {
        list.querySelector('.timeline-empty')?.remove();
        top = Math.max(top, ...fresh.map(postId));
      }
      // The newest page (it has no newer link): whatever the stream
      // announced and this lacks is gone (deleted), not waiting.
      if (!doc.querySelector('a[rel="prev"]')) top = Math.max(top, ...waiting());
      show();
      const n = fresh.length;
      box.dataset.loaded = String(n);
      announceLoaded(n);
    } catch {
      // Offline: the button stays for another try.
    } finally {
      loading = false;
      button.disabled = false;
    }
  }

  function announceLoaded(n) {
    const announcer = document.getElementById('live-announcer');
    if (announcer) announcer.textContent = n === 1 ? 'Loaded 1 new post' : `Loaded ${n} new posts`;
  }

  button.addEventListener('click', load);
  // A post put on the page in place (a reply) may be one counted as new.
  new MutationObserver(show).observe(list, {childList: true});
})();
