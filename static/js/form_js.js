// Camunda Forms on the task page: the form-js viewer (vendor/form-js) renders the
// form's JSON; on submit its data goes to the server as JSON (form_js_data) and
// the files of its file pickers under the viewer's `files::<key>` names. The
// server validates again (tasks_app/form_js.py) and answers with the page.
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // Map each dotted key (group paths included) to the component id form-js
  // files its errors under, so the server's messages show at their fields.
  function idsByKey(components, prefix, found) {
    (components || []).forEach(function (c) {
      if (c.key) found[prefix + c.key] = c.id;
      var path = c.path ? prefix + c.path + "." : prefix;
      idsByKey(c.components, path, found);
    });
    return found;
  }

  function valueAt(data, key) {
    return key.split(".").reduce(function (value, part) {
      return value && typeof value === "object" ? value[part] : undefined;
    }, data);
  }

  function start(htmlForm) {
    var schema = readJson("form-js-schema");
    var data = readJson("form-js-data") || {};
    var serverErrors = readJson("form-js-field-errors") || {};
    var container = htmlForm.querySelector(".form-js-container");
    var readonly = htmlForm.hasAttribute("data-readonly");
    // No write delay (form-js's `debounce` config, 300 ms by default): with
    // one, a text field's keys reach the viewer's data only after a pause or on
    // blur, and any re-render before that (another field's late write, such as
    // a date picker's, which form-js makes after the next frame) sets the
    // field back to the old data, so what was typed is lost, submit included.
    // Every key is written at once instead: the data always holds the page.
    var viewer = new window.FormViewer.Form({ container: container, debounce: false });
    htmlForm.formViewer = viewer; // for scripts and tests driving the page
    viewer.importSchema(schema, data).then(function () {
      if (readonly) viewer.setProperty("readOnly", true);
      var ids = idsByKey(schema.components, "", {});
      var pending = {}; // the server's messages, by component id, until edited
      Object.keys(serverErrors).forEach(function (key) {
        if (ids[key]) pending[ids[key]] = { key: key, messages: serverErrors[key] };
      });
      // form-js validates text fields again just after they render, which
      // would wipe the server's messages: keep each until its value changes.
      function keepServerErrors(state) {
        var errors = Object.assign({}, state.errors);
        var missing = false;
        Object.keys(pending).forEach(function (id) {
          if (valueAt(state.data, pending[id].key) !== valueAt(data, pending[id].key)) {
            delete pending[id]; // the user edited it: form-js's checks apply
          } else if (!errors[id]) {
            errors[id] = pending[id].messages;
            missing = true;
          }
        });
        if (missing) viewer._setState({ errors: errors });
      }
      viewer.on("changed", keepServerErrors);
      keepServerErrors(viewer._getState());
      htmlForm.dataset.ready = "true";
    }).catch(function (err) {
      container.textContent = "The form could not be shown: " + err.message;
    });

    function send() {
      var result = viewer.submit();
      if (Object.keys(result.errors).length) {
        var first = container.querySelector(".fjs-has-errors input, .fjs-has-errors");
        if (first && first.focus) first.focus();
        return false;
      }
      htmlForm.querySelector("input[name=form_js_data]").value = JSON.stringify(result.data);
      result.files.forEach(function (files, key) {
        var input = document.createElement("input");
        input.type = "file";
        input.name = key;
        input.multiple = true;
        input.hidden = true;
        var transfer = new DataTransfer();
        files.forEach(function (file) { transfer.items.add(file); });
        input.files = transfer.files;
        htmlForm.appendChild(input);
      });
      htmlForm.submit();
      return true;
    }

    // data-sending marks a press being handled (one per press, however many
    // clicks); it goes when the viewer refused the data and the page stays.
    htmlForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (readonly || htmlForm.dataset.sending) return;
      htmlForm.dataset.sending = "true";
      var active = document.activeElement;
      if (active && container.contains(active)) active.blur(); // e.g. Enter in a field
      afterPendingWrites(function () {
        if (!send()) delete htmlForm.dataset.sending;
      });
    });
    window.addEventListener("pageshow", function () { delete htmlForm.dataset.sending; });
  }

  // Run `fn` once the writes form-js has pending have landed. A date field
  // writes what was typed when it loses focus, but only in a Preact effect,
  // which runs after the next frame (or 100 ms when no frame comes): a press
  // of the button right after typing a date read the data before it, found
  // the required date empty and stayed on the page. The wait mirrors
  // Preact's own (setTimeout after a frame or 100 ms), begun after the blur's
  // re-render (a microtask) has scheduled those effects, so it ends after them.
  function afterPendingWrites(fn) {
    setTimeout(function () {
      var done = false;
      function run() {
        if (done) return;
        done = true;
        setTimeout(fn, 0);
      }
      requestAnimationFrame(run);
      setTimeout(run, 100);
    }, 0);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-form-js]").forEach(start);
  });
})();
