// Ordo console: small enhancements on top of pages that work without JavaScript. No inline scripts
// anywhere (the CSP forbids them); everything page-specific hangs off data- attributes.
(function () {
  'use strict';

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : null;
  }

  // htmx: every request carries the session's CSRF token (hx-headers on <body> does too; this covers
  // requests from content swapped in later), and a progress bar shows while one is running.
  document.addEventListener('htmx:configRequest', function (event) {
    var token = csrfToken();
    if (token) event.detail.headers['x-csrf-token'] = token;
  });
  var running = 0;
  document.addEventListener('htmx:beforeRequest', function () {
    running += 1;
    document.documentElement.classList.add('is-loading');
  });
  document.addEventListener('htmx:afterRequest', function () {
    running = Math.max(0, running - 1);
    if (running === 0) document.documentElement.classList.remove('is-loading');
  });
  document.addEventListener('htmx:sendError', function () {
    var alert = document.getElementById('console-alert');
    if (alert) alert.textContent = 'Ordo could not be reached. Check the connection and try again.';
  });
  // A new page fragment clears an old error message.
  document.addEventListener('htmx:afterSwap', function (event) {
    var alert = document.getElementById('console-alert');
    if (alert && event.detail.target !== alert) alert.textContent = '';
  });
  // Content htmx brings in (including out-of-band swaps) gets local times too.
  document.addEventListener('htmx:load', function (event) {
    localizeTimes(event.detail.elt);
  });

  // "/" focuses the search field of list pages, unless the operator is typing somewhere.
  document.addEventListener('keydown', function (event) {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (target && target.isContentEditable)) return;
    var search = document.querySelector('[data-search]');
    if (!search) return;
    event.preventDefault();
    search.focus();
    if (typeof search.select === 'function') search.select();
  });

  // Forms that do something hard to undo ask first.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Copy buttons: <button data-copy="#selector">.
  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest ? event.target.closest('[data-copy]') : null;
    if (!button) return;
    var field = document.querySelector(button.getAttribute('data-copy'));
    if (!field) return;
    field.select();
    var done = function () { button.textContent = 'Copied'; };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).then(done, function () {});
    else if (document.execCommand && document.execCommand('copy')) done();
  });

  // Times are rendered in UTC on the server; show them in the operator's own time zone.
  var formatter = typeof Intl !== 'undefined' ? new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : null;
  function localizeTimes(root) {
    if (!formatter || !root || !root.querySelectorAll) return;
    var times = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      if (el.hasAttribute('data-localized')) continue;
      var date = new Date(el.getAttribute('datetime'));
      if (isNaN(date.getTime())) continue;
      el.title = el.textContent;
      el.textContent = formatter.format(date);
      el.setAttribute('data-localized', '');
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { localizeTimes(document); });
  else localizeTimes(document);
})();
