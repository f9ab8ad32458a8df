/*
 * otcm - the one script of the web pages.  Every page works without it;
 * it adds upload progress and in-place errors.  No inline script is
 * allowed (Content-Security-Policy), so it finds its work by data
 * attributes.
 */
'use strict';

(function () {
  function csrf() {
    var m = document.querySelector('meta[name="otcm-csrf"]');
    return m ? m.getAttribute('content') : '';
  }

  function show(box, kind, text) {
    box.className = 'notice notice-' + kind;
    box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    box.textContent = text;
    box.hidden = false;
  }

  /*
   * Upload forms (data-upload-api="/api/v1/assets/N/versions"): send the
   * same multipart body to the API with progress events; the server's
   * problem+json detail is shown in place.  Without this script the form
   * posts to its page route, which answers with a page.
   */
  function enhanceUpload(form) {
    var api = form.getAttribute('data-upload-api');
    var bar = form.querySelector('progress');
    var box = form.querySelector('[data-upload-status]');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var data = new FormData(form);
      data.delete('csrf_token');
      // an empty file input still sends an empty part: drop it
      ['files', 'archive'].forEach(function (name) {
        var kept = data.getAll(name).filter(function (f) { return f && f.name; });
        data.delete(name);
        kept.forEach(function (f) { data.append(name, f, f.name); });
      });
      ['message', 'change'].forEach(function (name) {
        if (data.get(name) === '') data.delete(name);
      });
      var xhr = new XMLHttpRequest();
      xhr.open('POST', api);
      xhr.setRequestHeader('X-CSRF-Token', csrf());
      xhr.setRequestHeader('Accept', 'application/json');
      if (bar) { bar.hidden = false; bar.value = 0; }
      xhr.upload.addEventListener('progress', function (e) {
        if (bar && e.lengthComputable) bar.value = e.loaded / e.total;
      });
      xhr.addEventListener('load', function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 201 && body && body.commit) {
          show(box, 'ok', 'Uploaded version ' + body.commit.slice(0, 12) + '.');
          window.location.assign(form.getAttribute('data-upload-done').replace('{commit}', body.commit));
          return;
        }
        if (bar) bar.hidden = true;
        show(box, 'error', 'Upload refused (' + xhr.status + '): ' +
             (body && body.detail ? body.detail : 'the server gave no reason'));
      });
      xhr.addEventListener('error', function () {
        if (bar) bar.hidden = true;
        show(box, 'error', 'Upload failed: the server could not be reached.');
      });
      xhr.send(data);
    });
  }

  /* Confirm buttons carrying data-confirm before their form is sent. */
  function enhanceConfirm(button) {
    button.addEventListener('click', function (ev) {
      if (!window.confirm(button.getAttribute('data-confirm'))) ev.preventDefault();
    });
  }

  /* Asset search: filter the tree as one types (the form still works without). */
  function enhanceFilter(input) {
    var target = document.getElementById(input.getAttribute('data-filter'));
    if (!target) return;
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase();
      target.querySelectorAll('li[data-path]').forEach(function (li) {
        li.hidden = q !== '' && li.getAttribute('data-path').toLowerCase().indexOf(q) < 0;
      });
      target.querySelectorAll('details').forEach(function (d) { if (q) d.open = true; });
    });
  }

  /*
   * Protocol forms: "Add a step" appends a numbered row (instruction_N,
   * expected_N) and counts it in the hidden "rows" field; without the
   * script the "more rows" link reloads the form with more.
   */
  function enhanceSteps(button) {
    var form = button.form;
    var list = form.querySelector('[data-steps]');
    var rows = form.querySelector('[data-rows]');
    var more = form.querySelector('[data-more-rows]');
    if (!list || !rows) return;
    button.hidden = false;
    if (more) {
      more.hidden = true;
      if (more.nextElementSibling) more.nextElementSibling.hidden = true;
    }
    button.addEventListener('click', function () {
      var n = parseInt(rows.value, 10) + 1;
      var li = list.lastElementChild.cloneNode(true);
      li.querySelectorAll('label').forEach(function (l) {
        l.setAttribute('for', l.getAttribute('for').replace(/_\d+$/, '_' + n));
      });
      li.querySelectorAll('textarea').forEach(function (t) {
        t.id = t.id.replace(/_\d+$/, '_' + n);
        t.name = t.name.replace(/_\d+$/, '_' + n);
        t.value = '';
      });
      list.appendChild(li);
      rows.value = String(n);
      li.querySelector('textarea').focus();
    });
  }

  /*
   * Reporting deadlines (span.countdown data-due="2026-12-04T10:00:00.000Z"):
   * the server wrote the time left when it rendered the page; this keeps it
   * ticking against the due time the server computed, and says "overdue"
   * once it has passed.  The browser's clock only moves the display.
   */
  function enhanceCountdown(el) {
    var due = Date.parse(el.getAttribute('data-due'));
    function pad(n) { return (n < 10 ? '0' : '') + n; }
    function tick() {
      var s = Math.floor((due - Date.now()) / 1000);
      if (s < 0) {
        el.textContent = 'overdue';
        el.className = 'countdown bad';
        return;
      }
      var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
      el.textContent = (d ? d + ' d ' + pad(h) + ' h ' + pad(m) + ' min'
                          : h + ' h ' + pad(m) + ' min ' + pad(s % 60) + ' s') + ' left';
      setTimeout(tick, 1000);
    }
    if (!isNaN(due)) {
      tick();
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('span.countdown[data-due]').forEach(enhanceCountdown);
    document.querySelectorAll('button[data-add-step]').forEach(enhanceSteps);
    document.querySelectorAll('form[data-upload-api]').forEach(enhanceUpload);
    document.querySelectorAll('[data-confirm]').forEach(enhanceConfirm);
    document.querySelectorAll('input[data-filter]').forEach(enhanceFilter);
  });
})();
