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
    var viewer = new window.FormViewer.Form({ container: container });
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

    htmlForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (readonly) return;
      var result = viewer.submit();
      if (Object.keys(result.errors).length) {
        var first = container.querySelector(".fjs-has-errors input, .fjs-has-errors");
        if (first && first.focus) first.focus();
        return;
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
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-form-js]").forEach(start);
  });
})();
