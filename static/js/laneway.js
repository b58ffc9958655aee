// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Character counters for textareas with a maximum length.
  document.querySelectorAll("textarea[data-max-length]").forEach(function (area) {
    var max = parseInt(area.dataset.maxLength, 10);
    var label = document.querySelector('label[for="' + area.id + '"]');
    if (!label || !max) return;
    var counter = document.createElement("span");
    counter.className = "counter";
    counter.setAttribute("aria-hidden", "true");
    label.appendChild(counter);
    function update() { counter.textContent = area.value.length + " / " + max; }
    area.addEventListener("input", update);
    update();
  });

  // Ask before destructive actions (buttons carrying data-confirm).
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });

  // Avoid double submissions: disable the pressed button once the form is sent
  // (not when a script stopped the submission, e.g. a form-js form with errors).
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (button) {
        setTimeout(function () { button.disabled = !event.defaultPrevented; }, 0);
      }
    });
  });
})();
