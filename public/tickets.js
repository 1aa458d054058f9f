// Ordo console: the ticket queue's keyboard and selection. No inline scripts (CSP); the page works
// without this file (links, forms, plain POSTs), this only makes it faster to drive.
//
//   j / k     move the row focus          Enter   open the focused ticket
//   a         assign the focused to me    x       select / unselect the focused
//   /         search (console.js)
//
// The rows refresh themselves (htmx polling), and a row's own actions swap just that row. The checked
// boxes and the focused row are remembered here by ticket id and put back after every swap, whether a
// whole-list refresh or one row, however the two interleave.
(function () {
  'use strict';

  var focusedId = null;
  var selected = Object.create(null);

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll('#ticket-rows tr[data-ticket-id]'));
  }
  function rowById(id) {
    return id && /^\d+$/.test(id) ? document.getElementById('ticket-row-' + id) : null;
  }
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('#ticket-rows input[type="checkbox"][name="ids"]'));
  }
  function typing(target) {
    var tag = target && target.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || tag === 'BUTTON' || (target && target.isContentEditable);
  }

  function focusRow(row, scroll) {
    rows().forEach(function (r) { r.classList.remove('is-focused'); });
    if (!row) return;
    row.classList.add('is-focused');
    focusedId = row.getAttribute('data-ticket-id');
    row.focus({ preventScroll: !scroll });
    if (scroll && row.scrollIntoView) row.scrollIntoView({ block: 'nearest' });
  }

  function remember(box) {
    if (box.checked) selected[box.value] = true;
    else delete selected[box.value];
  }

  // After a swap: tick again what the operator had ticked, and forget tickets no longer on the page
  // (a colleague closed them, or a filter hid them) so the count says what a bulk action would take.
  function restoreSelection() {
    var shown = Object.create(null);
    boxes().forEach(function (b) {
      shown[b.value] = true;
      if (selected[b.value] && !b.disabled) b.checked = true;
      else if (b.disabled) delete selected[b.value];
    });
    Object.keys(selected).forEach(function (id) { if (!shown[id]) delete selected[id]; });
  }

  // While anything is selected the bulk bar sticks to the top of the window (tickets.css); the table's
  // header row sticks just below it, so it needs the bar's height (which grows when "Cancel orders…" opens).
  // A filter change swaps the whole list, bar included: the observer follows the bar on the page.
  var barObserver = null;
  var observedBar = null;
  function measureBar() {
    var form = document.getElementById('bulk-form');
    var bar = form && form.querySelector('.bulk-bar');
    // The exact (fractional) height: offsetHeight rounds, and a rounded-up height left a sliver of the rows showing.
    if (bar) form.style.setProperty('--bulk-bar-height', bar.getBoundingClientRect().height + 'px');
  }
  function stickBar(on) {
    var form = document.getElementById('bulk-form');
    var bar = form && form.querySelector('.bulk-bar');
    if (!bar) return;
    form.classList.toggle('has-selection', on);
    measureBar();
    if (bar !== observedBar && typeof ResizeObserver === 'function') {
      if (!barObserver) barObserver = new ResizeObserver(measureBar);
      if (observedBar) barObserver.unobserve(observedBar);
      barObserver.observe(bar);
      observedBar = bar;
    }
  }

  function updateCount() {
    var all = boxes();
    var checked = all.filter(function (b) { return b.checked; }).length;
    var label = document.querySelector('[data-selected-count]');
    if (label) label.textContent = checked === 0 ? 'Select tickets' : checked + ' selected:';
    stickBar(checked > 0);
    var selectAll = document.querySelector('[data-select-all]');
    if (selectAll) {
      var enabled = all.filter(function (b) { return !b.disabled; }).length;
      selectAll.checked = enabled > 0 && checked === enabled;
      selectAll.indeterminate = checked > 0 && checked < enabled;
    }
  }

  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var list = rows();
    if (list.length === 0) return;
    var current = rowById(focusedId);
    var onRow = current && event.target === current;
    if (typing(event.target) && !onRow) return;
    var i = current ? list.indexOf(current) : -1;
    switch (event.key) {
      case 'j':
        event.preventDefault();
        focusRow(list[Math.min(list.length - 1, i + 1)], true);
        break;
      case 'k':
        event.preventDefault();
        focusRow(list[Math.max(0, i - 1)], true);
        break;
      case 'Enter':
        if (!current || (event.target !== current && event.target !== document.body)) return;
        var link = current.querySelector('a.row-link');
        if (link) {
          event.preventDefault();
          link.click();
        }
        break;
      case 'a':
        var assign = current && current.querySelector('[data-assign-me]');
        if (assign) {
          event.preventDefault();
          // A refresh may have swapped this row in a moment ago: htmx wires new content only when it
          // settles, and an unwired button would post the whole page. Wire it now (idempotent).
          if (window.htmx) window.htmx.process(assign);
          assign.click();
        }
        break;
      case 'x':
        var box = current && current.querySelector('input[name="ids"]');
        if (box && !box.disabled) {
          event.preventDefault();
          box.checked = !box.checked;
          remember(box);
          updateCount();
        }
        break;
    }
  });

  // A click on a row (not on one of its controls) makes it the focused row.
  document.addEventListener('click', function (event) {
    var target = event.target;
    if (!target || !target.closest) return;
    var row = target.closest('#ticket-rows tr[data-ticket-id]');
    if (row && !target.closest('a, button, input, label, select, summary')) focusRow(row, false);
  });

  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target && target.matches && target.matches('[data-select-all]')) {
      boxes().forEach(function (b) { if (!b.disabled) { b.checked = target.checked; remember(b); } });
    }
    if (target && target.matches && target.matches('#ticket-rows input[name="ids"]')) remember(target);
    if (target && target.matches && target.matches('[data-select-all], #ticket-rows input[name="ids"]')) updateCount();
  });

  // Put the ticks back as soon as new rows are in, before anyone can see or submit them unticked.
  document.addEventListener('htmx:afterSwap', function () {
    restoreSelection();
    updateCount();
  });

  // After any swap (refresh, filter change, a row's assign): mark the focused row again, without taking
  // the focus from wherever the operator is typing, and recount the selection.
  document.addEventListener('htmx:afterSettle', function () {
    restoreSelection();
    var row = rowById(focusedId);
    if (row) {
      row.classList.add('is-focused');
      if (document.activeElement === document.body || document.activeElement === null) row.focus({ preventScroll: true });
    }
    updateCount();
  });

  // Live validation answers with one verdict per field (out of band): mark the input accordingly.
  document.addEventListener('htmx:oobAfterSwap', function (event) {
    // The event fires on the swapped-in element (detail.target is the one it replaced).
    var target = event.target;
    if (!target || !target.id || target.id.indexOf('check-') !== 0 || target.id.indexOf('check-group-') === 0) return;
    var input = document.getElementById('f-' + target.id.slice('check-'.length));
    if (!input) return;
    if (target.querySelector('.check-bad')) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  });

  // The refresh does not run while the tab is in the background (nobody is looking).
  document.addEventListener('htmx:beforeRequest', function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === 'ticket-rows' && document.hidden) event.preventDefault();
  });

  // A bulk action started: its tickets are on their way, so the selection is cleared. A refusal (422,
  // which htmx counts as successful: it is swapped in without an error) keeps it for a second try.
  document.addEventListener('htmx:afterRequest', function (event) {
    var elt = event.detail && event.detail.elt;
    var xhr = event.detail && event.detail.xhr;
    if (elt && elt.id === 'bulk-form' && event.detail.successful && xhr && xhr.status < 300) {
      boxes().forEach(function (b) { b.checked = false; });
      selected = Object.create(null);
      updateCount();
    }
  });

  // While the docked bulk result is shown, the page keeps room at its bottom as tall as the dock (and the
  // gap below it), so that scrolled fully down the last rows and the pager sit above it, where they can be
  // read and clicked. The dock grows as results come in and shrinks to nothing when closed: the observer
  // keeps the room in step, and takes it away with the dock. A history restore brings a new dock: follow it.
  var dockObserver = null;
  var observedDock = null;
  function measureDock() {
    var dock = observedDock;
    var rect = dock && dock.getBoundingClientRect();
    var room = rect && rect.height > 0 ? rect.height + Math.max(0, document.documentElement.clientHeight - rect.bottom) : 0;
    if (room > 0) {
      document.body.style.setProperty('--bulk-dock-room', room + 'px');
      document.body.classList.add('has-bulk-dock');
    } else {
      document.body.style.removeProperty('--bulk-dock-room');
      document.body.classList.remove('has-bulk-dock');
    }
  }
  function watchDock() {
    var dock = document.querySelector('.bulk-dock');
    if (dock !== observedDock && typeof ResizeObserver === 'function') {
      if (!dockObserver) dockObserver = new ResizeObserver(measureDock);
      if (observedDock) dockObserver.unobserve(observedDock);
      if (dock) dockObserver.observe(dock);
      observedDock = dock;
    }
    measureDock();
  }
  document.addEventListener('htmx:afterSettle', watchDock);
  document.addEventListener('htmx:historyRestore', watchDock);

  // The docked bulk result closes on request (it would otherwise stay over the list's corner).
  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest ? event.target.closest('[data-bulk-dismiss]') : null;
    var panel = button && button.closest('#bulk-progress');
    if (!panel) return;
    var slot = document.createElement('div');
    slot.id = 'bulk-progress';
    slot.className = 'bulk-progress-slot';
    panel.replaceWith(slot);
  });

  // The ticket last opened from the queue (Enter or a click on its link), so that Back to the queue puts
  // the row focus where it was: j goes on from there, not from the top.
  var LAST_OPENED = 'ordo.tickets.lastOpened';
  document.addEventListener('click', function (event) {
    var link = event.target && event.target.closest ? event.target.closest('#ticket-rows a.row-link') : null;
    var row = link && link.closest('tr[data-ticket-id]');
    if (!row) return;
    try { window.sessionStorage.setItem(LAST_OPENED, row.getAttribute('data-ticket-id')); } catch (e) { /* storage off: nothing to restore */ }
  });
  function restoreLastOpened() {
    var id = null;
    try { id = window.sessionStorage.getItem(LAST_OPENED); } catch (e) { return; }
    var row = rowById(id);
    if (!row) return;
    var active = document.activeElement;
    if (active && active !== document.body && active !== row) return;
    focusRow(row, false);
    if (row.scrollIntoView) row.scrollIntoView({ block: 'nearest' });
  }
  function cameBack() {
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType('navigation')[0] : null;
    return !!nav && nav.type === 'back_forward';
  }
  // Back from the ticket page: a fresh load, a page from the back/forward cache, or htmx restoring its history.
  window.addEventListener('pageshow', function (event) { if (event.persisted) restoreLastOpened(); });
  document.addEventListener('htmx:historyRestore', restoreLastOpened);

  // A box the browser ticked again on back/forward navigation counts as ticked.
  function start() {
    watchDock();
    boxes().forEach(remember);
    updateCount();
    if (cameBack()) restoreLastOpened();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
