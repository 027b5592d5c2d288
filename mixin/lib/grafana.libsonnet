// Grafana panel builders of the hostiso dashboards (plain Grafana 9/10
// dashboard JSON, schemaVersion 38; not an export: no __inputs/__requires,
// the data source is the `datasource` template variable).
//
// A function of the mixin's _config: selectors filter on the configured
// cluster label through the configured dashboard variable.
//   local g = (import '../lib/grafana.libsonnet')($._config);
//   g.stat('Title', 'Description', [g.target(g.sel('up'))], 'none')
function(config) {
  local g = self,
  local clusterVar = config.grafana.clusterVariable,

  ds:: { type: 'prometheus', uid: '${datasource}' },

  // The labels every per-host aggregation and join keeps.
  hostLabels:: '%s, job, instance' % config.clusterLabel,

  // Label matchers every selector carries. Series without the cluster label
  // match the variable's All (".*").
  filters:: '%s=~"$%s",job=~"$job",instance=~"$instance"' % [config.clusterLabel, clusterVar],

  // metric{<filters>[,extra]}
  sel(metric, extra='')::
    '%s{%s%s}' % [metric, g.filters, if extra != '' then ',' + extra else ''],

  // Data link to the host detail dashboard for one instance.
  hostLink(fieldExpr):: [{
    title: if std.length(std.findSubstr('__field', fieldExpr)) > 0
    then 'Host detail for ${__field.labels.instance}' else 'Host detail',
    url: '/d/hostiso-host-detail/hostiso-host-detail?${datasource:queryparam}'
         + '&${%s:queryparam}&${job:queryparam}&var-instance=%s&${__url_time_range}'
           % [clusterVar, fieldExpr],
  }],

  // thresholds([['green', null], ['red', 1]])
  thresholds(steps):: {
    mode: 'absolute',
    steps: [{ color: s[0], value: s[1] } for s in steps],
  },
  green:: g.thresholds([['green', null]]),
  redFrom1:: g.thresholds([['green', null], ['red', 1]]),
  redBelow0:: g.thresholds([['red', null], ['green', 0]]),

  // Value mappings of 0/1 gauges.
  boolMappings(no, yes, noColor='red'):: [{
    type: 'value',
    options: {
      '0': { color: noColor, index: 0, text: no },
      '1': { color: 'green', index: 1, text: yes },
    },
  }],
  upMappings:: g.boolMappings('DOWN', 'UP'),
  okMappings:: g.boolMappings('FAILING', 'OK'),

  // A query; refIds are given by the panel (A, B, ...).
  target(expr, legend='', instant=false, format='time_series', hide=false):: {
    expr: expr,
    legend: legend,
    instant: instant,
    format: format,
    hide: hide,
  },
  // Instant query formatted as a table.
  tableTarget(expr):: g.target(expr, instant=true, format='table'),

  local targetJson(t, ref) = {
    datasource: g.ds,
    editorMode: 'code',
    expr: t.expr,
    format: t.format,
    instant: t.instant,
    legendFormat: t.legend,
    range: !t.instant,
    refId: ref,
  } + (if t.hide then { hide: true } else {}),

  local base(kind, title, desc, targets, unit, defaults={}, overrides=[]) = {
    datasource: g.ds,
    description: desc,
    fieldConfig: {
      defaults: {
        unit: unit,
        color: { mode: 'palette-classic' },
        thresholds: g.green,
        mappings: [],
      } + defaults,
      overrides: overrides,
    },
    options: {},
    targets: [targetJson(targets[i], std.char(65 + i)) for i in std.range(0, std.length(targets) - 1)],
    title: title,
    type: kind,
  },

  local optional(key, value) = if value == null then {} else { [key]: value },

  timeseries(title,
             desc,
             targets,
             unit,
             stack=false,
             bars=false,
             min=0,
             max=null,
             thresh=null,
             overrides=[],
             calcs=['mean', 'max', 'lastNotNull'],
             points=false)::
    base('timeseries', title, desc, targets, unit, {
      custom: {
        axisCenteredZero: false,
        axisPlacement: 'auto',
        axisSoftMin: min,
        drawStyle: if bars then 'bars' else if points then 'points' else 'line',
        fillOpacity: if bars then 70 else if stack then 25 else 8,
        gradientMode: 'none',
        lineInterpolation: if points then 'stepAfter' else 'linear',
        lineWidth: 1,
        pointSize: 4,
        showPoints: if points then 'always' else 'never',
        spanNulls: false,
        stacking: { group: 'A', mode: if stack then 'normal' else 'none' },
        thresholdsStyle: { mode: if thresh != null then 'line+area' else 'off' },
      },
    } + optional('max', max) + optional('thresholds', thresh), overrides) + {
      options: {
        legend: {
          calcs: calcs,
          displayMode: 'table',
          placement: 'bottom',
          showLegend: true,
        } + (if std.member(calcs, 'max') then { sortBy: 'Max', sortDesc: true } else {}),
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },

  stat(title, desc, targets, unit, thresh=g.green, mappings=[], noValue=null, decimals=null)::
    base('stat', title, desc, targets, unit, {
      thresholds: thresh,
      mappings: mappings,
      color: { mode: 'thresholds' },
    } + optional('noValue', noValue) + optional('decimals', decimals)) + {
      options: {
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      },
    },

  // Horizontal bars, one per series; a click opens the host detail.
  bargauge(title, desc, targets, unit, thresh, min=0, max=null, noValue=null, link=true)::
    base('bargauge', title, desc, targets, unit, {
                                                   thresholds: thresh,
                                                   color: { mode: 'thresholds' },
                                                   min: min,
                                                 } + optional('max', max) + optional('noValue', noValue)
                                                 + (if link then { links: g.hostLink('${__field.labels.instance}') } else {})) + {
      options: {
        displayMode: 'gradient',
        minVizHeight: 10,
        minVizWidth: 0,
        orientation: 'horizontal',
        showUnfilled: true,
        valueMode: 'color',
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      },
    },

  table(title, desc, targets, unit, transformations, overrides=[], noValue=null, sortBy=[])::
    base('table', title, desc, targets, unit, {
      custom: {
        align: 'auto',
        cellOptions: { type: 'auto' },
        inspect: false,
        filterable: true,
      },
      color: { mode: 'thresholds' },
    } + optional('noValue', noValue), overrides) + {
      options: {
        cellHeight: 'sm',
        footer: { show: false, reducer: ['sum'], fields: '' },
        showHeader: true,
        sortBy: sortBy,
      },
      transformations: transformations,
    },

  // One row per CPU (legend {{cpu}}), coloured by value.
  heatmap(title, desc, targets, unit, scheme='Oranges')::
    base('heatmap', title, desc, targets, unit, {
      custom: {
        hideFrom: { legend: false, tooltip: false, viz: false },
        scaleDistribution: { type: 'linear' },
      },
    }) + {
      options: {
        calculate: false,
        cellGap: 1,
        cellValues: { unit: unit },
        color: {
          exponent: 0.5,
          fill: 'dark-orange',
          min: 0,
          mode: 'scheme',
          reverse: false,
          scale: 'exponential',
          scheme: scheme,
          steps: 64,
        },
        exemplars: { color: 'rgba(255,0,255,0.7)' },
        legend: { show: true },
        rowsFrame: { layout: 'auto' },
        showValue: 'never',
        tooltip: { show: true, yHistogram: false },
        yAxis: { axisLabel: 'CPU', axisPlacement: 'left', reverse: false },
      },
    },

  stateTimeline(title, desc, targets, unit, mappings, thresh)::
    base('state-timeline', title, desc, targets, unit, {
      mappings: mappings,
      thresholds: thresh,
      color: { mode: 'thresholds' },
      custom: { fillOpacity: 80, lineWidth: 0 },
    }) + {
      options: {
        alignValue: 'left',
        legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
        mergeValues: true,
        rowHeight: 0.9,
        showValue: 'never',
        tooltip: { mode: 'single', sort: 'none' },
      },
    },

  // Table transformations.
  organize(exclude=[], order=[], rename={}):: {
    id: 'organize',
    options: {
      excludeByName: { [k]: true for k in exclude },
      indexByName: { [order[i]]: i for i in std.range(0, std.length(order) - 1) },
      renameByName: rename,
    },
  },
  merge:: { id: 'merge', options: {} },
  groupingToMatrix(column, row):: {
    id: 'groupingToMatrix',
    options: { columnField: column, rowField: row, valueField: 'Value' },
  },

  // Label values are strings; converted, the table sorts 2 before 10.
  toNumbers(fields):: {
    id: 'convertFieldType',
    options: {
      conversions: [{ targetField: f, destinationType: 'number' } for f in fields],
      fields: {},
    },
  },

  overrideUnit(field, unit, extra=[]):: {
    matcher: { id: 'byName', options: field },
    properties: [{ id: 'unit', value: unit }] + extra,
  },
  instanceLinkOverride:: {
    matcher: { id: 'byName', options: 'instance' },
    properties: [{ id: 'links', value: g.hostLink('${__data.fields.instance}') }],
  },

  // Layout: a dashboard is a list of rows, each
  //   g.row('Title', [[panel, width, height], ...], collapsed=false)
  // Panels go left to right, top to bottom on Grafana's 24-column grid; ids
  // count from 1 in that order, rows included. A collapsed row holds its
  // panels.
  row(title, panels, collapsed=false):: { title: title, panels: panels, collapsed: collapsed },

  local placeRow(state, row) =
    local top = if state.x > 0 then state.y + state.rowH else state.y;
    local rowId = state.id;
    local placed = std.foldl(
      function(s, p)
        local w = p[1];
        local h = p[2];
        local wrap = s.x + w > 24;
        local x = if wrap then 0 else s.x;
        local y = if wrap then s.y + s.rowH else s.y;
        local rowH = if wrap then 0 else s.rowH;
        s {
          panels+: [p[0] { id: s.id, gridPos: { h: h, w: w, x: x, y: y } }],
          id: s.id + 1,
          x: x + w,
          y: y,
          rowH: std.max(rowH, h),
        },
      row.panels,
      { panels: [], id: rowId + 1, x: 0, y: top + 1, rowH: 0 }
    );
    local rowPanel = {
      collapsed: row.collapsed,
      datasource: g.ds,
      gridPos: { h: 1, w: 24, x: 0, y: top },
      id: rowId,
      panels: if row.collapsed then placed.panels else [],
      title: row.title,
      type: 'row',
    };
    placed {
      panels: state.panels + [rowPanel] + (if row.collapsed then [] else placed.panels),
    },

  layout(rows):: std.foldl(placeRow, rows, { panels: [], id: 1, x: 0, y: 0, rowH: 0 }).panels,

  // Template variables: datasource, cluster (All = ".*", which also matches
  // series without the label: one Prometheus per cluster), job (All = the
  // alternation of the hostiso jobs, not ".+", which would pull every
  // target's `up` into the panels), instance (All = ".+": every query also
  // filters on $job).
  variables(instanceMulti)::
    local queryVar(name, label, q, multi, allValue=null) = {
      // multi-value variables start on "All" (the whole fleet)
      current: if multi then { selected: true, text: ['All'], value: ['$__all'] } else {},
      datasource: g.ds,
      definition: q,
      hide: 0,
      includeAll: multi,
      label: label,
      multi: multi,
      name: name,
      options: [],
      query: { query: q, refId: 'StandardVariableQuery' },
      refresh: 2,
      regex: '',
      skipUrlSync: false,
      sort: 1,
      type: 'query',
    } + optional('allValue', allValue);
    {
      list: [
        {
          current: {},
          hide: 0,
          includeAll: false,
          label: 'Data source',
          multi: false,
          name: 'datasource',
          options: [],
          query: 'prometheus',
          refresh: 1,
          regex: '',
          skipUrlSync: false,
          type: 'datasource',
        },
        queryVar(clusterVar,
                 'Cluster',
                 'label_values(hostiso_build_info{%s}, %s)'
                 % [config.hostisoSelector, config.clusterLabel],
                 true,
                 '.*'),
        queryVar('job',
                 'Job',
                 'label_values(hostiso_build_info{%s,%s=~"$%s"}, job)'
                 % [config.hostisoSelector, config.clusterLabel, clusterVar],
                 true),
        queryVar('instance',
                 'Host',
                 'label_values(hostiso_build_info{%s=~"$%s",job=~"$job"}, instance)'
                 % [config.clusterLabel, clusterVar],
                 instanceMulti,
                 if instanceMulti then '.+' else null),
      ],
    },

  dashboard(uid, title, desc, rows, tags, instanceMulti, annotations=[]):: {
    annotations: { list: annotations },
    description: desc,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [{
      asDropdown: false,
      icon: 'external link',
      includeVars: true,
      keepTime: true,
      tags: ['hostiso'],
      targetBlank: false,
      title: 'hostiso dashboards',
      tooltip: '',
      type: 'dashboards',
      url: '',
    }],
    liveNow: false,
    panels: g.layout(rows),
    refresh: '1m',
    schemaVersion: 38,
    tags: ['hostiso'] + tags,
    templating: g.variables(instanceMulti),
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: '',
    title: title,
    uid: uid,
    version: 1,
    weekStart: '',
  },
}
