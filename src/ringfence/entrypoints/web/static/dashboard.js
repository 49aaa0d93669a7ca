// The dashboards' (outbound and inbound) behaviour: the trend chart (Chart.js, vendored) and the call drawer.
// The page works without it (tables carry every figure; drawer links open a full page).
(function () {
  "use strict";
  let chart = null;
  let opener = null; // the link that opened the drawer: focus goes back to it on close

  function drawTrend() {
    const canvas = document.getElementById("trend-chart");
    const data = document.getElementById("trend-data");
    if (!canvas || !data || typeof Chart === "undefined") return;
    const series = JSON.parse(data.textContent);
    // The series' names: the inbound view counts calls answered, not dials.
    const names = series.names || ["Attempted", "Connected", "Failed"];
    if (chart) chart.destroy();
    chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [
          { label: names[0], data: series.attempted, backgroundColor: "#8aa4c8" },
          { label: names[1], data: series.connected, backgroundColor: "#3c8d5a" },
          { label: names[2], data: series.failed, backgroundColor: "#c0504d" },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        // Hover shows the exact counts of every series for that period.
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", drawTrend);
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (target.id === "live") drawTrend();
    if (target.id === "drawer") {
      target.hidden = false;
      const title = target.querySelector("#drawer-title");
      if (title) { title.tabIndex = -1; title.focus(); }
    }
  });
  // Hiding an element does not stop its media: a closed drawer's recording would play on.
  function closeDrawer(drawer) {
    drawer.hidden = true;
    drawer.querySelectorAll("audio").forEach(function (audio) { audio.pause(); });
    if (opener && document.body.contains(opener)) opener.focus();
    opener = null;
  }

  document.addEventListener("click", function (event) {
    const open = event.target.closest(".open-drawer");
    if (open) opener = open;
    const close = event.target.closest(".drawer__close");
    if (close) {
      const drawer = close.closest(".drawer");
      if (drawer) closeDrawer(drawer);
    }
  });
  // From/To count only under "Custom": typing a date picks it, or the dates would be dropped.
  document.addEventListener("change", function (event) {
    const input = event.target.closest(".filters input[type=date]");
    const range = input && input.form.querySelector("select[name=range]");
    if (range) range.value = "custom";
  });
  document.addEventListener("keydown", function (event) {
    const drawer = document.getElementById("drawer");
    if (event.key === "Escape" && drawer && !drawer.hidden) closeDrawer(drawer);
  });
})();
