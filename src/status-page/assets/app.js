/*
 * Status page client: fetches api/panels and draws each panel the way its definition in
 * src/dashboard/panels.ts describes it. Every value from the server is inserted with textContent or
 * CSSOM properties, never as HTML, so data cannot inject markup or script.
 */
'use strict';
(function () {
  var COLORS = { green: '#56a64b', red: '#e02f44', orange: '#ff9830', yellow: '#fade2a', blue: '#3274d9', text: '#ccccdc' };
  // Grafana's classic palette, so a retailer keeps a recognisable colour across charts.
  var SERIES = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0', '#508642', '#cca300'];
  var refreshSeconds = Number(document.body.getAttribute('data-refresh-seconds')) || 30;
  var grid = document.getElementById('grid');
  var charts = {};
  var containers = {};
  var timer = null;

  var params = new URLSearchParams(location.search);
  var state = {
    range: params.get('from') || 'now-24h',
    retailers: params.getAll('retailer'),
    options: [],
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  function formatTime(ms) {
    var d = new Date(ms);
    if (isNaN(d.getTime())) return '';
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  function formatNumber(v, unit, decimals) {
    if (typeof v !== 'number') return String(v);
    var text = decimals !== undefined ? v.toFixed(decimals) : Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1);
    if (unit === 'h') return text + ' h';
    if (unit === 's') return text + ' s';
    return text;
  }

  /** The colour Grafana would give `v`: the last threshold step whose value it reaches. */
  function thresholdColor(v, steps) {
    if (!steps || typeof v !== 'number') return null;
    var color = null;
    steps.forEach(function (s) {
      if (s.value === null || v >= s.value) color = s.color;
    });
    return color;
  }

  function mapping(v, mappings) {
    if (!mappings || v === null || v === undefined) return null;
    for (var i = 0; i < mappings.length; i++) if (mappings[i].value === String(v)) return mappings[i];
    return null;
  }

  /** Text and colour of one value, following a field (or panel) definition. */
  function display(v, def) {
    if (v === null || v === undefined) return { text: def.noValue || '—', color: null };
    var m = mapping(v, def.mappings);
    if (m) return { text: m.text, color: m.color };
    if (def.unit === 'dateTimeAsIso') return { text: formatTime(typeof v === 'number' ? v : Date.parse(v)), color: null };
    if (typeof v === 'boolean') return { text: v ? 'yes' : 'no', color: null };
    return { text: formatNumber(v, def.unit, def.decimals), color: thresholdColor(v, def.thresholds) };
  }

  function container(p) {
    var c = containers[p.key];
    if (c) return c;
    var section = el('section', 'panel ' + p.kind + (p.kind === 'timeseries' ? ' chart' : ''));
    section.id = 'panel-' + p.key;
    section.setAttribute('data-kind', p.kind);
    section.style.gridColumn = p.gridPos.x + 1 + ' / span ' + p.gridPos.w;
    section.style.gridRow = p.gridPos.y + 1 + ' / span ' + p.gridPos.h;
    var title = el('h2', null, p.title);
    title.title = p.description;
    var body = el('div', 'panel-body');
    section.appendChild(title);
    section.appendChild(body);
    grid.appendChild(section);
    c = { section: section, body: body };
    containers[p.key] = c;
    return c;
  }

  function setBody(c, node) {
    while (c.body.firstChild) c.body.removeChild(c.body.firstChild);
    c.body.className = 'panel-body';
    if (node) c.body.appendChild(node);
  }

  function renderStat(p, c) {
    var row = p.rows[0] || {};
    var key = Object.keys(row)[0];
    var v = key === undefined ? null : row[key];
    var shown = v === null ? { text: 'No data', color: null } : display(v, p);
    setBody(c, null);
    c.body.textContent = shown.text;
    c.body.setAttribute('data-value', v === null ? '' : String(v));
    c.body.className = 'panel-body' + (shown.color ? ' bg-' + shown.color : '');
  }

  function renderTable(p, c) {
    if (!p.rows.length) return setBody(c, el('div', 'empty', 'No data'));
    var table = el('table');
    var head = el('tr');
    p.fields.forEach(function (f) {
      head.appendChild(el('th', null, f.label));
    });
    table.appendChild(el('thead')).appendChild(head);
    var body = el('tbody');
    p.rows.forEach(function (row) {
      var tr = el('tr');
      if (row.retailer !== undefined) tr.setAttribute('data-retailer', String(row.retailer));
      p.fields.forEach(function (f) {
        var v = row[f.name];
        var shown = display(v, f);
        var td = el('td', typeof v === 'number' ? 'num' : null, shown.text);
        td.setAttribute('data-field', f.name);
        if (shown.color) td.classList.add('bg-' + shown.color);
        td.title = shown.text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    setBody(c, table);
  }

  /** Grafana's long format (time, metric, value) to one line per metric. */
  function seriesOf(p) {
    var valueName = p.fields[0].name;
    var byMetric = {};
    var order = [];
    p.rows.forEach(function (r) {
      var m = String(r.metric);
      if (!byMetric[m]) {
        byMetric[m] = [];
        order.push(m);
      }
      byMetric[m].push({ x: r.time, y: r[valueName] });
    });
    return order.map(function (m) {
      return { metric: m, points: byMetric[m] };
    });
  }

  function colorFor(metric) {
    var i = state.options.indexOf(metric);
    return SERIES[(i < 0 ? 0 : i) % SERIES.length];
  }

  // Alert events drawn as thin vertical markers on every chart, like Grafana's annotations.
  var annotationPlugin = {
    id: 'alertMarkers',
    afterDatasetsDraw: function (chart, _args, opts) {
      var x = chart.scales.x;
      var area = chart.chartArea;
      var ctx = chart.ctx;
      (opts.times || []).forEach(function (t) {
        var px = x.getPixelForValue(t);
        if (px < area.left || px > area.right) return;
        ctx.save();
        ctx.strokeStyle = 'rgba(224, 47, 68, 0.7)';
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.restore();
      });
    },
  };

  function renderChart(p, c, data) {
    var series = seriesOf(p);
    var datasets = series.map(function (s) {
      var color = colorFor(s.metric);
      return { label: s.metric, data: s.points, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 2, spanGaps: true };
    });
    var times = data.annotations.map(function (a) {
      return Date.parse(a.time);
    });
    var chart = charts[p.key];
    if (chart) {
      chart.data.datasets = datasets;
      chart.options.scales.x.min = data.range.from;
      chart.options.scales.x.max = data.range.to;
      chart.options.plugins.alertMarkers.times = times;
      chart.update('none');
      return;
    }
    var box = el('div', 'chart-box');
    var canvas = el('canvas');
    canvas.setAttribute('aria-label', p.title);
    box.appendChild(canvas);
    setBody(c, box);
    var unit = p.unit;
    charts[p.key] = new window.Chart(canvas, {
      type: 'line',
      data: { datasets: datasets },
      plugins: [annotationPlugin],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: true,
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: {
            type: 'linear',
            min: data.range.from,
            max: data.range.to,
            ticks: { color: '#8e8e9a', maxTicksLimit: 7, callback: function (v) { return formatTime(v).slice(5); } },
            grid: { color: '#22252b' },
          },
          y: {
            ticks: { color: '#8e8e9a', callback: function (v) { return formatNumber(v, unit); } },
            grid: { color: '#22252b' },
          },
        },
        plugins: {
          alertMarkers: { times: times },
          legend: { position: 'bottom', labels: { color: '#ccccdc', boxWidth: 10, boxHeight: 10 } },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? formatTime(items[0].parsed.x) : ''; },
              label: function (item) { return item.dataset.label + ': ' + formatNumber(item.parsed.y, unit); },
            },
          },
        },
      },
    });
  }

  /** One strip per retailer; each interval a cell coloured by the panel's value mappings. */
  function renderHistory(p, c, data) {
    var span = data.range.to - data.range.from;
    var wrap = el('div', 'history');
    var series = seriesOf(p);
    if (!series.length) return setBody(c, el('div', 'empty', 'No runs in range'));
    series.forEach(function (s) {
      var row = el('div', 'history-row');
      row.setAttribute('data-retailer', s.metric);
      row.appendChild(el('div', 'history-label', s.metric));
      var strip = el('div', 'strip');
      s.points.forEach(function (pt) {
        var m = mapping(pt.y, p.mappings);
        var cell = el('span');
        cell.style.left = ((pt.x - data.range.from) / span) * 100 + '%';
        cell.style.width = Math.max((data.intervalMs / span) * 100, 0.3) + '%';
        cell.style.background = COLORS[m ? m.color : 'text'];
        cell.title = s.metric + ' ' + formatTime(pt.x) + ': ' + (m ? m.text : String(pt.y));
        cell.setAttribute('data-state', m ? m.text : String(pt.y));
        strip.appendChild(cell);
      });
      row.appendChild(strip);
      wrap.appendChild(row);
    });
    var legend = el('div', 'legend');
    (p.mappings || []).forEach(function (m) {
      var item = el('span');
      var swatch = el('i');
      swatch.style.background = COLORS[m.color];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(m.text));
      legend.appendChild(item);
    });
    wrap.appendChild(legend);
    setBody(c, wrap);
  }

  function render(data) {
    state.options = data.retailer.options;
    renderPicker(data.retailer);
    data.panels.forEach(function (p) {
      var c = container(p);
      if (p.error) {
        setBody(c, el('div', 'panel-error', 'Query failed: ' + p.error));
        return;
      }
      if (p.kind === 'stat') renderStat(p, c);
      else if (p.kind === 'table') renderTable(p, c);
      else if (p.kind === 'timeseries') renderChart(p, c, data);
      else if (p.kind === 'status-history') renderHistory(p, c, data);
    });
    document.getElementById('updated').textContent = 'Updated ' + formatTime(Date.parse(data.generatedAt)) + ' · refresh every ' + refreshSeconds + ' s';
  }

  function renderPicker(retailer) {
    var box = document.getElementById('retailer-options');
    while (box.firstChild) box.removeChild(box.firstChild);
    var all = retailer.selected === 'all';
    function option(value, label, checked) {
      var l = el('label');
      var input = el('input');
      input.type = 'checkbox';
      input.value = value;
      input.checked = checked;
      input.addEventListener('change', onPick);
      l.appendChild(input);
      l.appendChild(document.createTextNode(' ' + label));
      box.appendChild(l);
    }
    option('$__all', 'All', all);
    retailer.options.forEach(function (r) {
      option(r, r, !all && retailer.selected.indexOf(r) >= 0);
    });
    document.getElementById('retailer-summary').textContent = all ? 'All' : retailer.selected.join(', ');
  }

  function onPick(ev) {
    var box = document.getElementById('retailer-options');
    var inputs = Array.prototype.slice.call(box.querySelectorAll('input'));
    if (ev.target.value === '$__all' || !inputs.some(function (i) { return i.checked && i.value !== '$__all'; })) {
      state.retailers = [];
    } else {
      state.retailers = inputs.filter(function (i) { return i.checked && i.value !== '$__all'; }).map(function (i) { return i.value; });
    }
    load();
  }

  function query() {
    var q = new URLSearchParams();
    q.set('from', state.range);
    q.set('to', 'now');
    state.retailers.forEach(function (r) {
      q.append('retailer', r);
    });
    return q.toString();
  }

  function load() {
    clearTimeout(timer);
    var q = query();
    history.replaceState(null, '', '?' + q);
    fetch('api/panels?' + q, { headers: { Accept: 'application/json' } })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) throw new Error(body.error || 'HTTP ' + res.status);
          return body;
        });
      })
      .then(function (data) {
        document.getElementById('error').hidden = true;
        render(data);
        document.body.setAttribute('data-loaded', data.generatedAt);
      })
      .catch(function (err) {
        var box = document.getElementById('error');
        box.textContent = 'Could not load data: ' + err.message + ' (showing the last data received)';
        box.hidden = false;
      })
      .then(function () {
        timer = setTimeout(load, refreshSeconds * 1000);
      });
  }

  var rangeSelect = document.getElementById('range');
  if (Array.prototype.some.call(rangeSelect.options, function (o) { return o.value === state.range; })) rangeSelect.value = state.range;
  else state.range = rangeSelect.value;
  rangeSelect.addEventListener('change', function () {
    state.range = rangeSelect.value;
    load();
  });
  load();
})();
