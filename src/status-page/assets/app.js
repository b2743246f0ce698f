/*
 * Status page client: fetches api/panels and draws each panel the way its definition in
 * src/dashboard/panels.ts describes it. Every value from the server is inserted with textContent or
 * CSSOM properties, never as HTML, so data cannot inject markup or script.
 */
'use strict';
(function () {
  var COLORS = { green: '#56a64b', red: '#e02f44', orange: '#ff9830', yellow: '#fade2a', blue: '#3274d9', text: '#ccccdc' };
  // Grafana's classic palette (its bright half); a retailer's colour comes from a hash of its slug, so it is
  // the same on every chart and every load, and adding a retailer never repaints the others.
  var SERIES = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0',
    '#508642', '#cca300', '#447ebc', '#c15c17', '#b7dbab', '#f4d598', '#70dbed', '#f9ba8f'];
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var MINUTE = 60000;
  var HOUR = 60 * MINUTE;
  var DAY = 24 * HOUR;
  // Tick spacings, smallest first; the first that keeps the labels apart is used.
  var TICK_STEPS = [MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR,
    6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];
  var refreshSeconds = Number(document.body.getAttribute('data-refresh-seconds')) || 30;
  var grid = document.getElementById('grid');
  var charts = {};
  var containers = {};
  var timer = null;

  // The page's URL parameters are the API's (from, to, retailer). The first load sends them verbatim, so
  // the server judges them: an invalid one is shown as an error, never replaced by a default.
  var params = new URLSearchParams(location.search);
  var state = {
    from: params.get('from') || 'now-24h',
    to: params.get('to') || 'now',
    retailers: params.getAll('retailer'),
    options: [],
  };
  var firstQuery = location.search.length > 1 ? location.search.slice(1) : null;

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
    var shown = v === null ? { text: p.noValue || 'No data', color: null } : display(v, p);
    setBody(c, null);
    c.body.textContent = shown.text;
    c.body.setAttribute('data-value', v === null ? '' : String(v));
    c.body.className = 'panel-body' + (shown.color ? ' bg-' + shown.color : '') + (shown.text.length > 10 ? ' long' : '');
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
    // A Map, not an object: a retailer may be called `constructor` (a valid slug, and a property every
    // plain object already has), which would otherwise break every chart on the page.
    var byMetric = new Map();
    p.rows.forEach(function (r) {
      var m = String(r.metric);
      if (!byMetric.has(m)) byMetric.set(m, []);
      byMetric.get(m).push({ x: r.time, y: r[valueName] });
    });
    return Array.from(byMetric, function (entry) {
      return { metric: entry[0], points: entry[1] };
    });
  }

  /** FNV-1a: a stable 32-bit hash of the retailer slug picks its colour. */
  function colorFor(metric) {
    var h = 0x811c9dc5;
    for (var i = 0; i < metric.length; i++) {
      h ^= metric.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return SERIES[h % SERIES.length];
  }

  /** Tick positions at round local times (every 5 min, 1 h, 1 d …), at most `maxTicks` of them. */
  function timeTicks(from, to, maxTicks) {
    var step = TICK_STEPS[TICK_STEPS.length - 1];
    for (var i = 0; i < TICK_STEPS.length; i++) {
      if ((to - from) / TICK_STEPS[i] <= maxTicks) {
        step = TICK_STEPS[i];
        break;
      }
    }
    var ticks = [];
    if (step >= DAY) {
      var d = new Date(from);
      d.setHours(0, 0, 0, 0);
      if (d.getTime() < from) d.setDate(d.getDate() + 1);
      for (; d.getTime() <= to; d.setDate(d.getDate() + step / DAY)) ticks.push(d.getTime());
    } else {
      // Align in local wall-clock time, so hourly ticks fall on :00 in zones with half-hour offsets too.
      var offset = new Date(from).getTimezoneOffset() * MINUTE;
      for (var t = Math.ceil((from - offset) / step) * step + offset; t <= to; t += step) ticks.push(t);
    }
    return { step: step, ticks: ticks };
  }

  /** "14:30"; at local midnight, or when ticks are days apart, the date ("Nov 28"). */
  function tickLabel(ms, step) {
    var d = new Date(ms);
    if (step >= DAY || (d.getHours() === 0 && d.getMinutes() === 0)) return MONTHS[d.getMonth()] + ' ' + d.getDate();
    return pad(d.getHours()) + ':' + pad(d.getMinutes());
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
            // A time axis without a date adapter: epoch ms on a linear scale, ticks replaced by round times.
            afterBuildTicks: function (scale) {
              var width = scale.maxWidth || scale.chart.width || 600;
              var built = timeTicks(scale.min, scale.max, Math.max(2, Math.floor(width / 70)));
              scale.tickStep = built.step;
              scale.ticks = built.ticks.map(function (v) { return { value: v }; });
            },
            ticks: {
              color: '#8e8e9a',
              autoSkip: false,
              maxRotation: 0,
              callback: function (v) { return tickLabel(v, this.tickStep || HOUR); },
            },
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
        cell.style.width = Math.max(((p.intervalMs || data.intervalMs) / span) * 100, 0.3) + '%';
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
    q.set('from', state.from);
    q.set('to', state.to);
    state.retailers.forEach(function (r) {
      q.append('retailer', r);
    });
    return q.toString();
  }

  var rangeSelect = document.getElementById('range');

  /** Show the range in the selector: a preset when it is one, else a "custom" entry with from and to. */
  function reflectRange() {
    var custom = document.getElementById('range-custom');
    var preset = state.to === 'now' && Array.prototype.some.call(rangeSelect.options, function (o) {
      return o.value === state.from && o !== custom;
    });
    if (preset) {
      if (custom) custom.remove();
      rangeSelect.value = state.from;
      return;
    }
    if (!custom) {
      custom = el('option');
      custom.id = 'range-custom';
      rangeSelect.appendChild(custom);
    }
    custom.value = 'custom';
    custom.textContent = state.from + ' to ' + state.to;
    rangeSelect.value = 'custom';
  }

  function showError(text) {
    var box = document.getElementById('error');
    box.textContent = text;
    box.hidden = false;
  }

  function load() {
    clearTimeout(timer);
    var q = firstQuery !== null ? firstQuery : query();
    firstQuery = null;
    fetch('api/panels?' + q, { headers: { Accept: 'application/json' } })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) {
            var err = new Error(body.error || 'HTTP ' + res.status);
            err.status = res.status;
            throw err;
          }
          return body;
        });
      })
      .then(function (data) {
        history.replaceState(null, '', '?' + query());
        document.getElementById('error').hidden = true;
        render(data);
        document.body.setAttribute('data-loaded', data.generatedAt);
        timer = setTimeout(load, refreshSeconds * 1000);
      })
      .catch(function (err) {
        if (err.status === 400) {
          // The URL itself is wrong: say so, and do not retry it (pick a range to continue).
          showError('Invalid URL parameter: ' + err.message);
          document.getElementById('updated').textContent = 'not loaded';
          document.body.setAttribute('data-error', err.message);
          return;
        }
        showError('Could not load data: ' + err.message + ' (showing the last data received)');
        timer = setTimeout(load, refreshSeconds * 1000);
      });
  }

  reflectRange();
  rangeSelect.addEventListener('change', function () {
    if (rangeSelect.value === 'custom') return;
    state.from = rangeSelect.value;
    state.to = 'now';
    reflectRange();
    load();
  });
  load();
})();
