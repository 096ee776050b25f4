/* Dashboard charts: drawn with the vendored Chart.js from the numbers the server put in
   <script id="dashboard-charts" type="application/json"> (json_script), the same published
   numbers as the tables beside each chart, with the words of the page's language from
   <script id="dashboard-strings"> (analytics.dashboards.chart_strings; English without it).
   Without JavaScript the tables stand alone; the chart containers stay hidden. No inline
   code, so it works under a strict CSP. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  var printButton = document.getElementById("print-report");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
  if (!source || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var WORDS = {
    mean: "Mean", ci95: "95% confidence interval", gap_school: "Gap to the school",
    gap_district: "Gap to the district", gap_school_mean: "Gap to the school mean",
    gap_district_mean: "Gap to the district mean",
    ranked_groups: "%(count)s groups, from the lowest gap to the highest",
    school_mean: "School mean",
    ranked_schools: "%(count)s schools, from the lowest mean to the highest",
    dark_point: "(the dark point: %(name)s)", rest: "Not shown separately",
    answers: "% of answers", aria: "Chart: %(caption)s. The same numbers are in the table.",
    aria_ranked: "Chart: %(caption)s, ranked from the lowest to the highest. The same " +
      "numbers are in the table."
  };
  var stringsSource = document.getElementById("dashboard-strings");
  if (stringsSource) {
    var given = JSON.parse(stringsSource.textContent);
    Object.keys(given).forEach(function (key) { if (given[key]) { WORDS[key] = given[key]; } });
  }
  // A phrase with its %(name)s placeholders filled (Python's format, as gettext gives it).
  function words(key, values) {
    return WORDS[key].replace(/%\((\w+)\)s|%%/g, function (_, name) {
      return name ? values[name] : "%";
    });
  }
  var Chart = window.Chart;
  var INK = "#1a1a2e", ACCENT = "#1f4e9c", WARN = "#8a4b00", GRID = "#c9c9d6";
  var REST = "#ececec"; // shares not drawn on their own (banded or hidden), together
  // A diverging palette (ColorBrewer RdBu), from the least to the most agreeing option.
  var DIVERGING = {
    2: ["#d6604d", "#4393c3"],
    3: ["#d6604d", "#bababa", "#4393c3"],
    4: ["#b2182b", "#ef8a62", "#67a9cf", "#2166ac"],
    5: ["#b2182b", "#ef8a62", "#bababa", "#67a9cf", "#2166ac"],
    6: ["#b2182b", "#d6604d", "#f4a582", "#92c5de", "#4393c3", "#2166ac"],
    7: ["#b2182b", "#d6604d", "#f4a582", "#bababa", "#92c5de", "#4393c3", "#2166ac"]
  };
  Chart.defaults.color = INK;
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  var charts = [];

  function byId(list) {
    var out = {};
    (list || []).forEach(function (spec) { out[spec.id] = spec; });
    return out;
  }
  var specs = {
    trends: byId(data.trends), equity: byId(data.equity), items: byId(data.items),
    district: byId(data.district)
  };

  function intervals(spec) {
    return spec.ci.map(function (ci) { return ci ? [ci[0], ci[1]] : null; });
  }

  function trendConfig(spec) {
    return {
      data: {
        labels: spec.waves,
        datasets: [
          { type: "line", label: words("mean"), data: spec.values, borderColor: ACCENT,
            backgroundColor: ACCENT, pointRadius: 5, spanGaps: false, order: 1 },
          { type: "bar", label: words("ci95"), data: intervals(spec),
            backgroundColor: "rgba(31,78,156,0.25)", borderColor: ACCENT, borderWidth: 1,
            barPercentage: 0.15, order: 2 }
        ]
      },
      options: { scales: { y: { min: spec.lo, max: spec.hi,
                                title: { display: true, text: words("mean") },
                                grid: { color: GRID } } } }
    };
  }

  // More groups than fit a readable row each (a district of many schools): one thin
  // column each, ranked by value, with no names on the axis (a point's tooltip gives
  // it; the table holds every number).
  var RANKED_FROM = 25;

  function ranked(spec) {
    var order = spec.values.map(function (_, i) { return i; });
    order.sort(function (a, b) { return spec.values[a] - spec.values[b]; });
    function pick(list) { return list ? order.map(function (i) { return list[i]; }) : list; }
    return { groups: pick(spec.groups), values: pick(spec.values), ci: pick(spec.ci),
             caution: pick(spec.caution), reference: spec.reference };
  }

  // A point and its 95% CI per group: a row each (names on the axis), or for many
  // groups one thin column each, ranked, the reference group (the whole district) dark.
  function intervalConfig(spec, axis) {
    var many = spec.groups.length > RANKED_FROM;
    if (many) { spec = ranked(spec); }
    var colours = spec.groups.map(function (label, i) {
      if (many && label === spec.reference) { return INK; }
      return spec.caution && spec.caution[i] ? WARN : ACCENT;
    });
    var shown = spec.groups.length - (spec.groups.indexOf(spec.reference) >= 0 ? 1 : 0);
    return {
      data: {
        labels: spec.groups,
        datasets: [
          { type: "line", label: axis.point, data: spec.values, showLine: false,
            pointRadius: many ? colours.map(function (c) { return c === INK ? 5 : 2; }) : 6,
            pointStyle: many ? "circle" : "rectRot", pointBorderColor: colours,
            pointBackgroundColor: colours, borderColor: ACCENT, backgroundColor: ACCENT,
            order: 1 },
          { type: "bar", label: words("ci95"), data: intervals(spec),
            backgroundColor: "rgba(31,78,156,0.25)", borderColor: colours,
            borderWidth: many ? 0 : 1, barPercentage: many ? 1 : 0.3,
            categoryPercentage: many ? 1 : 0.8, order: 2 }
        ]
      },
      options: many ? {
        indexAxis: "x",
        scales: { y: axis.scale, x: { ticks: { display: false }, grid: { display: false },
                                      title: { display: true, text: axis.ranked(shown) } } }
      } : {
        indexAxis: "y",
        scales: { x: axis.scale, y: { grid: { display: false } } }
      }
    };
  }

  function equityConfig(spec) {
    // The whole school, or the whole district on its dashboard.
    var top = spec.top === "district" ? "district" : "school";
    return intervalConfig(spec, {
      point: words("gap_" + top),
      ranked: function (count) { return words("ranked_groups", { count: count }); },
      scale: { title: { display: true, text: words("gap_" + top + "_mean") }, grid: {
        color: function (ctx) { return ctx.tick && ctx.tick.value === 0 ? INK : GRID; } } }
    });
  }

  function districtConfig(spec) {
    return intervalConfig(spec, {
      point: words("school_mean"),
      ranked: function (count) {
        return words("ranked_schools", { count: count }) +
          (spec.reference ? " " + words("dark_point", { name: spec.reference }) : "");
      },
      scale: { min: spec.lo, max: spec.hi, title: { display: true, text: words("mean") },
               grid: { color: GRID } }
    });
  }

  function itemsConfig(spec) {
    var palette = DIVERGING[spec.options.length] || DIVERGING[7];
    var datasets = spec.options.map(function (label, j) {
      return { label: label, data: spec.shares[j], backgroundColor: palette[j],
               borderColor: "#ffffff", borderWidth: 1 };
    });
    if ((spec.rest || []).some(function (v) { return v !== null; })) {
      datasets.push({ label: words("rest"), data: spec.rest, backgroundColor: REST,
                      borderColor: "#ffffff", borderWidth: 1 });
    }
    return {
      type: "bar",
      data: { labels: spec.items, datasets: datasets },
      options: {
        indexAxis: "y",
        scales: { x: { stacked: true, min: 0, max: 100,
                       title: { display: true, text: words("answers") } },
                  y: { stacked: true } }
      }
    };
  }

  var BUILDERS = { trends: trendConfig, equity: equityConfig, items: itemsConfig,
                   district: districtConfig };

  function draw(container) {
    var kind = container.getAttribute("data-chart");
    var spec = (specs[kind] || {})[container.getAttribute("data-chart-id")];
    if (!spec) { return; }
    var config = BUILDERS[kind](spec);
    config.options.plugins = { legend: { position: "bottom" } };
    var rows = (spec.groups || spec.items || spec.waves || []).length;
    var many = (kind === "district" || kind === "equity") && rows > RANKED_FROM;
    container.classList.add(kind === "trends" ? "chart-short" : many ? "chart-ranked" :
                            "chart-rows-" + Math.min(rows, 12));
    if (many) { container.parentNode.classList.add("wide"); }
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    var caption = container.parentNode.querySelector("figcaption");
    canvas.setAttribute("aria-label", words(many ? "aria_ranked" : "aria",
                                            { caption: caption ? caption.textContent : spec.label }));
    container.appendChild(canvas);
    container.hidden = false;
    charts.push(new Chart(canvas, config));
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  // Charts size themselves to their box; printing changes the box, so redraw for paper.
  window.addEventListener("beforeprint", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  window.addEventListener("afterprint", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
