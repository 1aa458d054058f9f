// Ordo console, analysts' process pages: the What-if button of the modeler page and what follows a
// deploy. Loaded after /assets/build/modeler.js, which exposes the bpmn-js modeler as window.modeler.
// No inline scripts anywhere (the CSP forbids them); the page hangs everything off data- attributes.
(function () {
  'use strict';

  var root = document.querySelector('[data-ordo-modeler]');
  if (!root) return;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function emit(name, detail) {
    root.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
  }

  function message(target, text, kind) {
    var p = document.createElement('p');
    p.className = 'message message-' + kind;
    p.textContent = text;
    target.replaceChildren(p);
  }

  // A new diagram, once deployed, is a process with versions: continue on its own edit page.
  root.addEventListener('ordo:deployed', function (event) {
    var key = event.detail && event.detail.key;
    if (root.hasAttribute('data-new-process') && key) window.location.assign('/processes/' + encodeURIComponent(key) + '/edit');
  });

  var button = document.getElementById('ordo-what-if');
  var results = document.getElementById('what-if-results');
  var limitInput = document.getElementById('what-if-limit');
  var url = root.getAttribute('data-what-if-url');
  if (!button || !results || !url) return;

  var OVERLAY = 'ordo-what-if';
  var shown = false;

  function modeler() {
    return window.modeler || null;
  }

  function clearOverlays() {
    var m = modeler();
    if (m && shown) m.get('overlays').remove({ type: OVERLAY });
    shown = false;
  }

  // One badge per kind of change on each element of the draft: the same counts as the table.
  function showOverlays() {
    var m = modeler();
    if (!m) return;
    clearOverlays();
    var registry = m.get('elementRegistry');
    var overlays = m.get('overlays');
    var rows = results.querySelectorAll('[data-whatif-element]');
    for (var i = 0; i < rows.length; i++) {
      var id = rows[i].getAttribute('data-whatif-element');
      var element = registry.get(id);
      var items = rows[i].querySelectorAll('.what-if-changes [data-change]');
      if (!element || items.length === 0 || element.waypoints) continue;
      var box = document.createElement('div');
      box.className = 'ordo-heat what-if-heat';
      box.setAttribute('data-element-id', id);
      for (var j = 0; j < items.length; j++) {
        var badge = document.createElement('span');
        var change = items[j].getAttribute('data-change');
        badge.className = 'ordo-badge what-if-badge what-if-' + change;
        badge.setAttribute('data-change', change);
        badge.textContent = items[j].getAttribute('data-count');
        badge.title = items[j].textContent.replace(/\s+/g, ' ').trim();
        box.appendChild(badge);
      }
      overlays.add(id, OVERLAY, { position: { top: -12, left: -8 }, html: box });
      shown = true;
    }
  }

  async function run() {
    var m = modeler();
    if (!m) return;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    results.classList.remove('what-if-stale');
    message(results, 'Running the orders through the draft…', 'ok');
    try {
      var saved = await m.saveXML({ format: true });
      var limit = parseInt(limitInput && limitInput.value, 10);
      var target = url + (limit > 0 ? '?limit=' + limit : '');
      var response;
      try {
        response = await fetch(target, {
          method: 'POST',
          credentials: 'same-origin',
          // hx-request: errors come back as the console's error fragment, not a whole page.
          headers: { 'content-type': 'application/xml', accept: 'text/html', 'x-csrf-token': csrfToken(), 'hx-request': 'true' },
          body: saved.xml || '',
        });
      } catch (err) {
        message(results, 'Ordo could not be reached. Check the connection and try again.', 'error');
        emit('ordo:what-if', { ok: false, status: 0 });
        return;
      }
      if (response.status === 401) {
        message(results, 'Your session has expired: download the diagram to keep your changes, then log in again.', 'error');
        emit('ordo:what-if', { ok: false, status: 401 });
        return;
      }
      // The server renders the report with every value escaped; it carries no script.
      results.innerHTML = await response.text();
      if (response.ok) showOverlays();
      else clearOverlays();
      emit('ordo:what-if', { ok: response.ok, status: response.status });
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  button.addEventListener('click', function () {
    void run();
  });

  // A step's name in the report selects it on the diagram.
  results.addEventListener('click', function (event) {
    var cell = event.target && event.target.closest ? event.target.closest('[data-whatif-element] th') : null;
    var m = modeler();
    if (!cell || !m) return;
    var element = m.get('elementRegistry').get(cell.parentElement.getAttribute('data-whatif-element'));
    if (!element) return;
    m.get('selection').select(element);
    if (!element.waypoints) m.get('canvas').scrollToElement(element);
  });

  // The report describes the diagram as it was: after an edit, say so and take the badges off.
  var ready = window.OrdoModeler && window.OrdoModeler.ready ? window.OrdoModeler.ready : Promise.resolve();
  ready.then(function () {
    var m = modeler();
    if (!m) return;
    m.get('eventBus').on('commandStack.changed', function () {
      if (!shown) return;
      clearOverlays();
      results.classList.add('what-if-stale');
    });
  });
})();
