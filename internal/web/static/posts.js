// posts.js: replying and liking in place. Loaded with `defer` on members'
// pages.
//
// Without JavaScript every post's "Reply" link leads to the reply form on
// the post's page, and its like button is a form that posts and comes back.
// With it:
// - "Reply" opens a form under the post, where it is; the reply is sent
//   with fetch, asking for JSON, and natter's rendering of the new post is
//   put under the post it answers. A refusal ("Write something first.")
//   shows beside the form, which keeps what was typed.
// - The like button sends its form with fetch and shows the new state and
//   count on every copy of the post on the page.
// Both listen on the document, so posts added later work too.
(() => {
  'use strict';

  const status = document.createElement('div');
  status.className = 'visually-hidden';
  status.setAttribute('role', 'status');
  document.body.append(status);
  const announce = (text) => { status.textContent = text; };

  // send posts form's fields to its action, asking for JSON. It resolves
  // to the decoded answer, or rejects with a message a member can read.
  async function send(form) {
    let res;
    try {
      res = await fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        headers: {Accept: 'application/json'},
        credentials: 'same-origin',
      });
    } catch {
      throw new Error('natter could not be reached. Please try again.');
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      // not JSON: a login page, a proxy's error
    }
    if (res.status === 401 || (!data && res.redirected)) {
      window.location.reload(); // logged out: the page shows it
      throw new Error('You are logged out.');
    }
    if (!res.ok || !data) {
      throw new Error((data && data.error) || 'Something went wrong. Please try again.');
    }
    return data;
  }

  // ---------------------------------------------------------------------
  // Replying in place
  // ---------------------------------------------------------------------

  function openReply(link) {
    const post = link.closest('article.post');
    if (!post) return false;
    const id = link.dataset.reply;
    const existing = post.querySelector('form.reply-inline');
    if (existing) {
      existing.querySelector('textarea').focus();
      return true;
    }
    const form = document.createElement('form');
    form.className = 'reply-inline mt-2';
    form.method = 'post';
    form.action = `/post/${id}/reply`;
    form.noValidate = true;
    const fieldId = `reply-body-${id}`;
    // data-max-chars, not maxlength: natter.js counts characters as the
    // server does, where maxlength would count UTF-16 units (70 emoji).
    form.innerHTML = `
      <label class="form-label small"></label>
      <textarea name="body" rows="2" class="form-control form-control-sm" data-max-chars="140" required data-maxlength-counter></textarea>
      <div class="form-text"></div>
      <div class="invalid-feedback"></div>
      <div class="d-flex gap-2 mt-1">
        <button type="submit" class="btn btn-primary btn-sm">Reply</button>
        <button type="button" class="btn btn-link btn-sm reply-cancel">Cancel</button>
      </div>`;
    const label = form.querySelector('label');
    const textarea = form.querySelector('textarea');
    const counter = form.querySelector('.form-text');
    const error = form.querySelector('.invalid-feedback');
    label.htmlFor = fieldId;
    label.textContent = `Reply to @${link.dataset.author}`;
    textarea.id = fieldId;
    counter.id = `${fieldId}-counter`;
    counter.textContent = '140 characters left';
    error.id = `${fieldId}-error`;
    textarea.setAttribute('aria-describedby', `${counter.id} ${error.id}`);
    link.closest('.post-actions').after(form);
    link.setAttribute('aria-expanded', 'true');
    form.querySelector('.reply-cancel').addEventListener('click', () => closeReply(form, link));
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') closeReply(form, link);
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitReply(form, link, post);
    });
    textarea.focus();
    return true;
  }

  function closeReply(form, link) {
    form.remove();
    link.setAttribute('aria-expanded', 'false');
    link.focus();
  }

  async function submitReply(form, link, post) {
    const textarea = form.querySelector('textarea');
    const error = form.querySelector('.invalid-feedback');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const data = await send(form);
      const t = document.createElement('template');
      t.innerHTML = data.html; // natter's own rendering, escaped by html/template
      const reply = t.content.firstElementChild;
      post.after(reply);
      countReply(link);
      form.remove();
      link.setAttribute('aria-expanded', 'false');
      announce('Your reply is posted.');
      const permalink = reply.querySelector('a.permalink');
      if (permalink) permalink.focus();
    } catch (err) {
      error.textContent = err.message;
      textarea.classList.add('is-invalid');
      textarea.setAttribute('aria-invalid', 'true');
      textarea.focus();
    } finally {
      button.disabled = false;
    }
  }

  // countReply adds one to the replies the link shows.
  function countReply(link) {
    let count = link.querySelector('.reply-count');
    if (!count) {
      count = document.createElement('span');
      count.className = 'reply-count';
      count.textContent = '0';
      link.append(' ', count);
    }
    count.textContent = String((parseInt(count.textContent, 10) || 0) + 1);
  }

  function initReplies() {
    document.addEventListener('click', (e) => {
      const link = e.target instanceof Element ? e.target.closest('a.post-reply[data-reply]') : null;
      if (!link || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      // On the post's own page the link leads to its form, just below.
      const own = document.getElementById('reply');
      if (own && own.getAttribute('action') === `/post/${link.dataset.reply}/reply`) return;
      if (openReply(link)) e.preventDefault();
    });
  }

  // ---------------------------------------------------------------------
  // Likes
  // ---------------------------------------------------------------------

  const likeAction = /^\/post\/(\d+)\/(like|unlike)$/;

  // showLike shows the post's like state on every copy of it on the page.
  function showLike(id, liked, likes) {
    for (const form of document.querySelectorAll('form.like-form')) {
      const m = likeAction.exec(form.getAttribute('action') || '');
      if (!m || m[1] !== id) continue;
      form.setAttribute('action', `/post/${id}/${liked ? 'unlike' : 'like'}`);
      const button = form.querySelector('button');
      button.setAttribute('aria-pressed', String(liked));
      form.querySelector('.like-heart').textContent = liked ? '♥' : '♡';
      form.querySelector('.like-count').textContent = String(likes);
    }
  }

  function initLikes() {
    document.addEventListener('submit', async (e) => {
      const form = e.target;
      if (!(form instanceof HTMLFormElement) || !form.matches('form.like-form')) return;
      const m = likeAction.exec(form.getAttribute('action') || '');
      if (!m) return;
      e.preventDefault();
      const button = form.querySelector('button');
      if (button.disabled) return;
      button.disabled = true;
      try {
        const data = await send(form);
        showLike(m[1], data.liked, data.likes);
        announce(data.liked ? `Liked. ${data.likes} in all.` : `Like taken back. ${data.likes} in all.`);
      } catch (err) {
        announce(err.message);
      } finally {
        button.disabled = false;
        button.focus();
      }
    });
  }

  for (const init of [initReplies, initLikes]) {
    try {
      init();
    } catch (err) {
      console.error('natter:', init.name, err);
    }
  }
})();
