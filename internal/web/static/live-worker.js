// live-worker.js: the SharedWorker that lets every natter tab share ONE
// Server-Sent Events connection.
//
// Why: browsers allow only 6 HTTP/1.1 connections per site. If each tab
// held its own EventSource, six open tabs would leave no connection for
// page loads. natter.js connects here through a MessagePort instead.
//
// Messages (natter.js is the only client):
//   tab → worker  {type: 'hello', userId, liveUrl, names}  (names = SSE event names to listen for)
//                 {type: 'bye'}                             (sent on pagehide)
//   worker → tab  {type: 'notification', id, name, data, timestamp}
//                 {type: 'status', connected, fallback}
// `fallback: true` means the stream failed for good (401, a proxy that
// strips streaming, ...): tabs should poll instead. The worker stops trying
// until a hello for another member or stream URL arrives.
'use strict';

// A stream that errors this many times in a row without delivering a single
// event is considered broken. On a healthy stream the server sends the
// current value of every notification right after connecting, so any
// delivered event proves it works and resets the count.
const MAX_FAILURES = 3;
// A stream open at least this long counts as having worked.
const HEALTHY_MS = 30000;

// Navigating a tab sends 'bye' from the old page just before the new page
// says 'hello'; wait a little before closing so that does not cost a reconnect.
const IDLE_CLOSE_MS = 5000;

const ports = new Map(); // MessagePort → userId of the page behind it
let stream = null; // {key, userId, source} while a stream is wanted
let latest = new Map(); // name → last notification message, replayed to new tabs
let status = {type: 'status', connected: false, fallback: false};
let failures = 0;
let idleTimer = null;

self.addEventListener('connect', (event) => {
  const port = event.ports[0];
  port.addEventListener('message', (e) => onPortMessage(port, e.data || {}));
  port.start();
});

function onPortMessage(port, msg) {
  if (msg.type === 'bye') {
    ports.delete(port);
    if (ports.size === 0) {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(closeStream, IDLE_CLOSE_MS);
    }
    return;
  }
  if (msg.type !== 'hello') return;

  clearTimeout(idleTimer);
  ports.set(port, msg.userId);
  // A different member means someone logged out and back in: the old stream
  // (and everything remembered from it) belongs to the previous session.
  const key = msg.userId + ' ' + msg.liveUrl;
  if (!stream || stream.key !== key) {
    openStream(key, msg.userId, msg.liveUrl, msg.names || []);
    return; // the new stream's own events will reach this port
  }
  // Same member: bring the new tab up to date without waiting for changes.
  port.postMessage(status);
  for (const notification of latest.values()) port.postMessage(notification);
}

function openStream(key, userId, liveUrl, names) {
  closeStream();
  stream = {key, userId, source: null};
  failures = 0;

  if (typeof EventSource === 'undefined') {
    setStatus(false, true);
    return;
  }
  const source = new EventSource(liveUrl);
  stream.source = source;

  // A stream that stayed open a while was healthy: its drop (a restart, a
  // laptop lid) starts the failure count afresh. Only quick failures in a row
  // (a proxy that cannot stream) lead to polling.
  let openedAt = 0;
  source.addEventListener('open', () => {
    openedAt = Date.now();
    setStatus(true, false);
  });
  source.addEventListener('error', () => {
    if (openedAt && Date.now() - openedAt > HEALTHY_MS) failures = 0;
    openedAt = 0;
    failures++;
    // CLOSED means the browser will not retry (e.g. 401 or a non-SSE reply).
    if (source.readyState === EventSource.CLOSED || failures >= MAX_FAILURES) {
      source.close();
      setStatus(false, true);
    } else {
      setStatus(false, false);
    }
  });
  for (const name of names) {
    source.addEventListener(name, (e) => {
      let payload;
      try {
        payload = JSON.parse(e.data);
      } catch {
        return; // a malformed event is not worth breaking the stream for
      }
      failures = 0;
      const message = {
        type: 'notification',
        id: e.lastEventId === '' ? null : Number(e.lastEventId),
        name: payload.name || name,
        data: payload.data,
        timestamp: payload.timestamp,
      };
      latest.set(message.name, message);
      broadcast(message);
    });
  }
}

// Forgets the stream and what it delivered, telling every tab.
function closeStream() {
  if (stream && stream.source) stream.source.close();
  stream = null;
  latest = new Map();
  setStatus(false, false);
}

function setStatus(connected, fallback) {
  if (status.connected === connected && status.fallback === fallback) return;
  status = {type: 'status', connected, fallback};
  broadcast(status);
}

// While a stream is open only tabs of its member get messages: a tab left
// over from before a re-login must not show someone else's counts.
function broadcast(message) {
  for (const [port, userId] of ports) {
    if (!stream || userId === stream.userId) port.postMessage(message);
  }
}
