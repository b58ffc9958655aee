// Draws the BPMN diagram of a version or case with bpmn-js (NavigatedViewer: drag to pan,
// Ctrl/⌘ + scroll or the buttons to zoom) and, on a case page, marks the completed, active
// and failed elements. Every failure is shown in place of the diagram, not only in the console.
(function () {
  "use strict";

  var STATES = ["completed", "active", "failed"];
  var ZOOM_STEP = 1.2;
  var PAD = 24;  // px of room around the fitted diagram
  var MIN_HEIGHT = 220, MAX_HEIGHT = 480;  // px; the card shrinks to wide, flat diagrams

  // Replace the diagram by a one-line message (kind "error" is announced to screen readers).
  function message(container, text, kind) {
    var box = document.createElement("p");
    box.className = "diagram-message" + (kind ? " diagram-message-" + kind : "");
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.textContent = text;
    container.replaceChildren(box);
  }

  function readStates(container) {
    var id = container.dataset.statesId;
    var node = id && document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (err) {
      return null;
    }
  }

  // An element that is active or failed now is marked as such, even if it completed before.
  function mark(viewer, states) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var marked = {};
    STATES.slice().reverse().forEach(function (state) {
      (states[state] || []).forEach(function (id) {
        if (marked[id] || !registry.get(id)) return;
        marked[id] = state;
        canvas.addMarker(id, state);
      });
    });
    return marked;
  }

  // Show the whole diagram, centred, with some room around it, never enlarged past 100 %.
  function fit(canvas) {
    var box = canvas.viewbox(), inner = box.inner, outer = box.outer;
    if (!inner.width || !inner.height) return;
    var scale = Math.min(1, (outer.width - 2 * PAD) / inner.width,
      (outer.height - 2 * PAD) / inner.height);
    canvas.viewbox({
      x: inner.x + inner.width / 2 - outer.width / scale / 2,
      y: inner.y + inner.height / 2 - outer.height / scale / 2,
      width: outer.width / scale,
      height: outer.height / scale,
    });
  }

  // As tall as the diagram needs at the card's width, within MIN_HEIGHT..MAX_HEIGHT.
  function size(container, canvas) {
    var inner = canvas.viewbox().inner;
    if (!inner.width || !inner.height) return;
    var scale = Math.min(1, (container.clientWidth - 2 * PAD) / inner.width);
    var height = Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, inner.height * scale + 2 * PAD));
    container.style.height = Math.round(height) + "px";
    canvas.resized();
  }

  function wireZoom(container, viewer) {
    var canvas = viewer.get("canvas");
    var card = container.closest(".diagram-slot") || document;
    card.querySelectorAll("[data-diagram-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.dataset.diagramZoom;
        if (how === "fit") {
          fit(canvas);
        } else {
          var box = canvas.viewbox();
          var center = { x: box.outer.width / 2, y: box.outer.height / 2 };
          canvas.zoom(canvas.zoom() * (how === "in" ? ZOOM_STEP : 1 / ZOOM_STEP), center);
        }
      });
    });
    // Plain scrolling keeps scrolling the page; Ctrl/⌘ + scroll (and pinch) zooms the diagram.
    container.addEventListener("wheel", function (event) {
      if (!(event.ctrlKey || event.metaKey)) return;
      event.preventDefault();
      var rect = container.getBoundingClientRect();
      var factor = Math.pow(ZOOM_STEP, -Math.sign(event.deltaY));
      canvas.zoom(canvas.zoom() * factor, {
        x: event.clientX - rect.left, y: event.clientY - rect.top,
      });
    }, { passive: false });
  }

  function draw(container, xml) {
    container.replaceChildren();
    var viewer = new window.BpmnJS({ container: container, zoomScroll: { enabled: false } });
    return viewer.importXML(xml).then(function () {
      var canvas = viewer.get("canvas");
      size(container, canvas);
      fit(canvas);
      var states = readStates(container);
      if (states) container.dataset.marked = JSON.stringify(mark(viewer, states));
      wireZoom(container, viewer);
      container.classList.add("is-ready");
      // Pages that add to the diagram (the cockpit heatmap) get the viewer here.
      container.dispatchEvent(new CustomEvent("diagram:ready", { detail: { viewer: viewer } }));
    }, function (err) {
      viewer.destroy();
      var reason = (err && err.message) || String(err);
      if (/no diagram to display/i.test(reason)) {
        reason = "the file has no diagram layout (BPMN DI) to draw";
      }
      throw new Error(reason);
    });
  }

  function render(container) {
    message(container, "Loading the diagram…");
    if (typeof window.BpmnJS !== "function") {
      message(container, "The diagram viewer is not installed on this server " +
        "(run npm ci in the project directory), so the diagram cannot be shown.", "error");
      return;
    }
    fetch(container.dataset.xmlUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("the server answered " + response.status + " " + response.statusText);
        }
        return response.text();
      })
      .then(function (xml) { return draw(container, xml); })
      .catch(function (err) {
        message(container, "The diagram cannot be shown: " + err.message + ".", "error");
      });
  }

  document.querySelectorAll("div#diagram[data-xml-url]").forEach(render);
})();
