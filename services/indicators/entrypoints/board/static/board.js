/* The board's map and the division page's charts, drawn with Apache ECharts (SVG renderer,
   no animation) from the JSON the page carries. Colours: the Okabe-Ito palette. */
(function () {
  "use strict";
  var COLOURS = { on_track: "#009e73", at_risk: "#e69f00", behind: "#d55e00",
                  no_target: "#8a96a3", no_data: "#c5ccd3" };
  var ORDER = ["on_track", "at_risk", "behind", "no_target", "no_data"];

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function init(node) {
    var chart = echarts.init(node, null, { renderer: "svg" });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  function drawMap(data) {
    var node = document.getElementById("map");
    if (!node || !data.map) { return; }
    var chart = init(node);
    var select = document.getElementById("map-mode");
    function option(mode) {
      var parts = mode.split(":"), how = parts[0], key = parts[1];
      var spec = data.indicators.find(function (i) { return i.key === key; });
      var items = data.divisions.filter(function (d) { return d.feature; }).map(function (d) {
        var found = key ? d.cells[key] : null;
        var status = key ? found.status : d.overall;
        var value = how === "value" ? (found.value === null ? NaN : found.value)
                                    : ORDER.indexOf(status);
        return { name: d.feature, value: value, code: d.code, label_zh: d.name,
                 shown: found ? found.shown : null, status: status };
      });
      var visual;
      if (how === "value") {
        var known = items.map(function (i) { return i.value; }).filter(isFinite);
        visual = { type: "continuous", min: Math.min.apply(null, known.concat([0])),
                   max: Math.max.apply(null, known.concat([1])), calculable: true,
                   inRange: { color: ["#eaf3fa", "#0072b2"] }, left: 0, bottom: 0,
                   text: ["高", "低"] };
      } else {
        visual = { type: "piecewise", left: 0, bottom: 0,
                   pieces: ORDER.map(function (s, i) {
                     return { value: i, label: data.statuses[s], color: COLOURS[s] }; }) };
      }
      return {
        animation: false,
        title: { text: (how === "value" ? "按数值：" : "按状态：") + (spec ? spec.name : "综合"),
                 left: "center", textStyle: { fontSize: 14 } },
        tooltip: { trigger: "item", formatter: function (p) {
          var d = p.data || {};
          return d.label_zh + "<br>" + data.statuses[d.status] + (d.shown ? "：" + d.shown : "");
        } },
        visualMap: visual,
        series: [{ type: "map", map: data.map.name, roam: false, data: items,
                   label: { show: false }, emphasis: { label: { show: true } } }]
      };
    }
    chart.setOption(option(select.value));
    select.addEventListener("change", function () { chart.setOption(option(select.value), true); });
    chart.on("click", function (p) {
      if (p.data && p.data.code) {
        window.location.href = "/division/" + p.data.code + window.location.search;
      }
    });
  }

  function drawCharts(charts) {
    charts.forEach(function (c) {
      var node = document.querySelector('.chart[data-key="' + c.key + '"]');
      if (!node) { return; }
      var series = [{ name: c.change ? "基期以来增量" : "实际值", type: "line", step: "end",
                      showSymbol: false, data: c.points, color: "#0072b2",
                      endLabel: { show: true, formatter: function (p) { return p.value[1]; } } }];
      if (c.path.length) {
        series.push({ name: "规划路径", type: "line", showSymbol: false, data: c.path,
                      color: "#56606b", lineStyle: { type: "dashed" } });
      }
      if (c.target) {
        series.push({ name: "目标", type: "scatter", data: [c.target], color: "#d55e00",
                      symbol: "diamond", symbolSize: 12 });
      }
      init(node).setOption({
        animation: false,
        grid: { left: 60, right: 60, top: 40, bottom: 30 },
        legend: { top: 0 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "time", name: "月份" },
        yAxis: { type: "value", name: c.unit, scale: true },
        series: series
      });
    });
  }

  var board = read("board-data");
  if (board) { drawMap(board); }
  var division = read("division-data");
  if (division) { drawCharts(division); }
})();
