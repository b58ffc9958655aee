// The heatmap of a version page: on each element of the diagram, how many cases wait
// there now, how many passed and the median time; clicking an element lists its waiting
// cases (the page reloads with ?element=<id>). diagram.js announces the drawn viewer.
(function () {
  "use strict";

  var container = document.getElementById("diagram");
  var data = document.getElementById("element-statistics");
  if (!container || !data) return;
  var figures = {};
  JSON.parse(data.textContent).forEach(function (e) { figures[e.id] = e; });

  function badge(e) {
    var box = document.createElement("div");
    box.className = "heat" + (e.active ? " heat-waiting" : "") + (e.incidents ? " heat-failed" : "");
    box.dataset.element = e.id;
    var parts = [];
    // Words and plain symbols only: headless and kiosk browsers often lack emoji fonts.
    if (e.active) parts.push(e.active + " waiting");
    parts.push("✓ " + e.completed);
    if (e.incidents) parts.push(e.incidents + (e.incidents === 1 ? " incident" : " incidents"));
    if (e.median_s !== null) parts.push("⌀ " + e.median);
    box.textContent = parts.join(" · ");
    box.title = e.active + " waiting now, " + e.completed + " passed" +
      (e.median_s !== null ? ", median " + e.median + ", p90 " + e.p90 : "");
    return box;
  }

  function select(id) {
    var params = new URLSearchParams(window.location.search);
    params.set("element", id);
    window.location.search = params.toString();
  }

  container.addEventListener("diagram:ready", function (event) {
    var viewer = event.detail.viewer;
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    Object.keys(figures).forEach(function (id) {
      if (!registry.get(id)) return;
      overlays.add(id, "heatmap", { position: { bottom: -4, left: 0 }, html: badge(figures[id]) });
    });
    viewer.get("eventBus").on("element.click", function (click) {
      if (figures[click.element.id]) select(click.element.id);
    });
  });
})();
