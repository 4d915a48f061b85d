// Draws the dashboard's charts from the JSON the page carries (no inline
// script: the console's Content-Security-Policy forbids it).
(function () {
  var el = document.getElementById("dash-data");
  if (!el || typeof Chart === "undefined") return;
  var d = JSON.parse(el.textContent);
  var q = document.getElementById("questions");
  if (q) new Chart(q, {
    type: "bar",
    data: { labels: d.Days, datasets: [
      { label: "提问", data: d.Questions, backgroundColor: "#07c160" },
      { label: "未答", data: d.Unanswered, backgroundColor: "#f59e0b" } ] },
    options: { responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  var v = d.Villages || [];
  var vc = document.getElementById("villages");
  if (vc) new Chart(vc, {
    type: "bar",
    data: { labels: v.map(function (r) { return r.Key; }),
      datasets: [{ label: "知晓率 %", data: v.map(function (r) { return Math.round(r.Rate * 1000) / 10; }), backgroundColor: "#3b82f6" }] },
    options: { indexAxis: "y", responsive: true, scales: { x: { min: 0, max: 100 } } }
  });
})();
