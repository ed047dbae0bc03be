/**
 * The page's own script (plain ES2017, run after d3 and Observable Plot): reads the chart specs
 * from the `genrec-report-data` JSON block and draws each chart into its `<figure>`. A chart that
 * fails shows the error in its place and logs it with `console.error` (which the browser test
 * treats as a failure). When done, `<body data-charts-rendered="N">` says how many were drawn.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('genrec-report-data').textContent);
  var rendered = 0;
  data.charts.forEach(function (spec) {
    var figure = document.getElementById(spec.id);
    var holder = figure && figure.querySelector('.chart');
    try {
      if (!holder) throw new Error('the page has no figure for it');
      var marks = [Plot.ruleY([0], { stroke: '#ccc' })];
      var x = { label: spec.xLabel };
      if (spec.type === 'lines') {
        if (spec.reference) marks.push(Plot.line(spec.reference, { x: 'x', y: 'y', stroke: '#999', strokeDasharray: '4,3' }));
        marks.push(Plot.line(spec.points, { x: 'x', y: 'y', stroke: 'series', strokeWidth: 1.5 }));
        marks.push(Plot.dot(spec.points, { x: 'x', y: 'y', fill: 'series', r: spec.points.length > 120 ? 1.5 : 3, tip: true }));
        if (spec.xTicks) { x.ticks = spec.xTicks; x.tickFormat = 'd'; }
      } else {
        marks.push(Plot.barY(spec.points, { x: 'x', y: 'y', fill: 'series', tip: true }));
        x.type = 'band';
        x.domain = spec.points.map(function (point) { return point.x; });
      }
      var chart = Plot.plot({
        width: 560,
        height: 280,
        marginLeft: 60,
        marginBottom: 44,
        style: { fontSize: '12px' },
        x: x,
        y: { label: spec.yLabel, grid: true, percent: !!spec.yPercent },
        color: spec.colors ? { legend: true, domain: spec.colors.domain, range: spec.colors.range } : { legend: true, scheme: 'tableau10' },
        marks: marks
      });
      holder.appendChild(chart);
      figure.setAttribute('data-rendered', 'true');
      rendered++;
    } catch (error) {
      if (holder) holder.textContent = 'This chart could not be drawn: ' + error.message;
      console.error('genrec report: chart ' + spec.id + ' failed: ' + error.message);
    }
  });
  document.body.setAttribute('data-charts-rendered', String(rendered));
})();
`;
