// The cockpit dashboard's chart: cases started and completed per day (Chart.js, served
// from node_modules like bpmn-js; no inline script, so the CSP needs no 'unsafe-inline').
(function () {
  "use strict";

  var canvas = document.getElementById("cases-per-day");
  var data = document.getElementById("cases-per-day-data");
  if (!canvas || !data) return;
  if (typeof window.Chart !== "function") {
    canvas.replaceWith(Object.assign(document.createElement("p"), {
      className: "diagram-message diagram-message-error",
      textContent: "The chart library is not installed on this server (run npm ci); " +
        "the figures are in the table below.",
    }));
    return;
  }
  var series = JSON.parse(data.textContent);
  var chart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: series.days,
      datasets: [
        { label: "Started", data: series.started, backgroundColor: "#2563eb" },
        { label: "Completed", data: series.completed, backgroundColor: "#16a34a" },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  canvas.dataset.ready = "true";
  canvas.chart = chart;
})();
