// live-worker.js: holds the member's Server-Sent Events stream for the
// page. Run as a SharedWorker, ONE stream serves every natter tab of the
// browser (browsers allow only 6 HTTP/1.1 connections per site); where
// SharedWorker is missing, natter.js runs it as a dedicated Worker, one per
// tab, with the same messages.
//
// Messages (natter.js is the only client):
//   tab → worker  {type: 'hello', userId, liveUrl, pollUrl, names, seq, since, timeline}
//                 (timeline: the tab shows the newest posts, and wants to hear of new ones)
//                 {type: 'wake'}  the browser is online again, or the tab visible: retry now
//                 {type: 'bye'}   sent on pagehide
//   worker → tab  {type: 'notification', id, name, data, timestamp}
//                 {type: 'reset', id, notifications: [{name, data, timestamp}, ...]}
//                 {type: 'posts', recent: [post ids, newest first], full}  the site's newest posts
//                 {type: 'status', state: 'connecting' | 'live' | 'down' | 'logged-out', attempt}
//                 (attempt: how many tries in a row have failed)
//
// The stream always comes back: after a failure the worker retries with
// jittered exponential back-off capped at RETRY_MAX_MS, at once on 'wake'
// and when a tab says hello, for as long as a tab is open. While it is down
// it polls /notifications?since= as a bridge. Only a 401 stops it: the
// member is logged out, and a page of a new login starts a fresh stream.
'use strict';

const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 30000;
const POLL_INTERVAL_MS = 10000;
// Navigating a tab sends 'bye' from the old page just before the new page
// says 'hello'; wait a little before closing so that does not cost a reconnect.
const IDLE_CLOSE_MS = 5000;

// One stream per member: a tab left open from an earlier login keeps its
// own member's stream (which the server refuses: ?member= is not who is
// logged in now), and is never handed another member's events.
const members = new Map(); // userId → Member

class Member {
  constructor(hello, port) {
    this.userId = hello.userId;
    this.liveUrl = hello.liveUrl;
    this.pollUrl = hello.pollUrl;
    this.names = hello.names || [];
    this.ports = new Set();
    this.lastId = Number.isFinite(hello.seq) ? hello.seq : 0; // newest event id applied
    this.since = Number.isFinite(hello.since) ? hello.since : 0; // newest timestamp known, for polling
    this.latest = new Map(); // name → last notification, replayed to tabs that join
    this.state = 'connecting';
    this.source = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pollTimer = null;
    this.idleTimer = null;
    // Tabs showing the timeline: while there are any, the stream is opened
    // with ?timeline=1 and brings the newest posts ("posts" events).
    this.timelinePorts = new Set(hello.timeline ? [port] : []);
    this.posts = null; // the last 'posts' message, replayed to tabs that join
    this.connect();
  }

  add(port, hello) {
    clearTimeout(this.idleTimer);
    this.ports.add(port);
    port.postMessage({type: 'status', state: this.state, attempt: this.attempt});
    for (const n of this.latest.values()) port.postMessage(n);
    if (hello && hello.timeline) {
      this.timelinePorts.add(port);
      if (this.posts) port.postMessage(this.posts);
      // A stream opened for pages without the timeline does not bring
      // posts: open it again, resuming where it was. (It keeps bringing
      // them when the timeline tabs go, until it reconnects anyway.)
      if (this.source && !this.source.timeline) {
        this.source.close();
        this.source = null;
        this.connect();
      }
    }
    // A new tab or a reload never inherits a failure: it tries now.
    if (this.state === 'down') this.connect();
  }

  remove(port) {
    this.ports.delete(port);
    this.timelinePorts.delete(port);
    if (this.ports.size === 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.close(), IDLE_CLOSE_MS);
    }
  }

  post(msg) {
    for (const port of this.ports) port.postMessage(msg);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.post({type: 'status', state, attempt: this.attempt});
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.source || this.state === 'logged-out') return;
    if (typeof EventSource === 'undefined') {
      this.down(); // polling only
      return;
    }
    const source = new EventSource(this.streamUrl());
    source.timeline = this.timelinePorts.size > 0;
    this.source = source;
    source.addEventListener('open', () => {
      this.attempt = 0;
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
      this.setState('live');
    });
    // Every error, whether the browser would retry or not: the worker
    // retries on its own terms.
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      source.close();
      this.source = null;
      this.down();
    });
    for (const name of this.names) {
      source.addEventListener(name, (e) => {
        const payload = parse(e.data);
        if (payload) this.notify({id: Number(e.lastEventId), name: payload.name || name, data: payload.data, timestamp: payload.timestamp});
      });
    }
    source.addEventListener('posts', (e) => {
      const news = parse(e.data);
      if (!news || !Array.isArray(news.recent)) return;
      this.posts = {type: 'posts', recent: news.recent, full: Boolean(news.full)};
      for (const port of this.timelinePorts) port.postMessage(this.posts);
    });
    source.addEventListener('reset', (e) => {
      const list = parse(e.data);
      if (Array.isArray(list)) this.reset(Number(e.lastEventId), list);
    });
  }

  // The stream is down: poll as a bridge (which also tells a logout from
  // a server that is away) and retry after a back-off.
  down() {
    if (this.state === 'logged-out') return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.attempt);
    this.attempt++;
    // Every failed attempt is reported, so that a page (and a test) can
    // tell how long the back-off has grown.
    this.state = 'down';
    this.post({type: 'status', state: 'down', attempt: this.attempt});
    if (!this.pollTimer) this.poll();
    // Jitter, so that a restarted server is not met by every browser at once.
    this.retryTimer = setTimeout(() => this.connect(), delay / 2 + Math.random() * delay / 2);
  }

  async poll() {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => this.poll(), POLL_INTERVAL_MS);
    try {
      // First ask the stream itself whether this is still the member
      // logged in: /notifications answers for whoever is, and a tab of an
      // earlier login must not be shown someone else's counts.
      const probe = new AbortController();
      const stream = await fetch(this.streamUrl(), {signal: probe.signal, credentials: 'same-origin'});
      probe.abort();
      if (stream.status === 401) {
        this.loggedOut();
        return;
      }
      const url = new URL(this.pollUrl, self.location.href);
      url.searchParams.set('since', String(this.since));
      const response = await fetch(url, {headers: {Accept: 'application/json'}, credentials: 'same-origin'});
      if (response.status === 401) {
        this.loggedOut();
        return;
      }
      if (!response.ok) return;
      const list = await response.json();
      if (this.state === 'live') return; // the stream came back meanwhile and is newer
      for (const n of Array.isArray(list) ? list : []) this.notify({id: null, ...n});
    } catch {
      // Offline or a bad reply: the next round or the stream will do.
    }
  }

  streamUrl() {
    const url = new URL(this.liveUrl, self.location.href);
    url.searchParams.set('member', this.userId);
    // Where the stream resumes; the browser's own Last-Event-ID is lost
    // whenever the worker, not the browser, reconnects.
    url.searchParams.set('lastEventId', String(this.lastId));
    if (this.timelinePorts.size > 0) url.searchParams.set('timeline', '1');
    return url;
  }

  notify(n) {
    if (typeof n.name !== 'string') return;
    // Events can arrive twice (a replay after reconnecting) or late: only
    // newer ones count. Polled values carry no id.
    if (n.id !== null) {
      if (!(n.id > this.lastId)) return;
      this.lastId = n.id;
    }
    if (n.timestamp > this.since) this.since = n.timestamp;
    const message = {type: 'notification', ...n};
    this.latest.set(n.name, message);
    this.post(message);
  }

  reset(id, list) {
    this.lastId = Number.isFinite(id) ? id : 0;
    this.latest = new Map();
    for (const n of list) {
      if (n.timestamp > this.since) this.since = n.timestamp;
    }
    this.post({type: 'reset', id: this.lastId, notifications: list});
  }

  loggedOut() {
    this.stop();
    this.state = 'logged-out';
    this.post({type: 'status', state: 'logged-out'});
    members.delete(this.userId);
  }

  stop() {
    clearTimeout(this.retryTimer);
    clearTimeout(this.pollTimer);
    clearTimeout(this.idleTimer);
    this.pollTimer = null;
    if (this.source) this.source.close();
    this.source = null;
  }

  close() {
    this.stop();
    if (members.get(this.userId) === this) members.delete(this.userId);
  }
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null; // a malformed event is not worth breaking the stream for
  }
}

function onPortMessage(port, msg) {
  if (msg.type === 'hello') {
    for (const m of members.values()) m.ports.delete(port);
    for (const m of members.values()) m.timelinePorts.delete(port);
    let m = members.get(msg.userId);
    if (!m) {
      m = new Member(msg, port);
      members.set(msg.userId, m);
    }
    m.add(port, msg);
  } else if (msg.type === 'wake') {
    for (const m of members.values()) {
      if (m.ports.has(port) && m.state === 'down') m.connect();
    }
  } else if (msg.type === 'bye') {
    for (const m of members.values()) {
      if (m.ports.has(port)) m.remove(port);
    }
  }
}

function listen(port) {
  port.addEventListener('message', (e) => onPortMessage(port, e.data || {}));
  if (port.start) port.start(); // a dedicated worker's scope has none
}

if (typeof SharedWorkerGlobalScope !== 'undefined' && self instanceof SharedWorkerGlobalScope) {
  self.addEventListener('connect', (event) => listen(event.ports[0]));
} else {
  // A dedicated worker: its page is its only port.
  listen(self);
}
