#!/usr/bin/env python3
"""Builds the committed Grafana dashboards of hostiso_exporter.

It writes the panels, for the mixin's default configuration, to
mixin/dashboards/generated/; the mixin (mixin/dashboards/dashboards.libsonnet)
applies its $._config (cluster label, job selector) and mixin/render.py writes
the shipped dashboards/*.json. Edit this script, then run

    python3 mixin/render.py            # rebuild the templates and the dashboards
    python3 mixin/render.py --check    # exit 1 if anything is stale

and run tests/dashboards/check_dashboards.py. The JSON is plain Grafana 9/10
dashboard JSON (schemaVersion 38), not an export: no __inputs/__requires, the
data source is the `datasource` template variable, so the files can be
provisioned as they are or imported by hand.

python3 standard library only.
"""

import argparse
import json
import os
import sys

SCHEMA_VERSION = 38
DS = {"type": "prometheus", "uid": "${datasource}"}
# Label matchers every selector carries.
# `cluster` is the mixin's default clusterLabel and the name of the dashboard
# variable; the mixin (mixin/dashboards/dashboards.libsonnet) substitutes the
# configured label. Series without the label match the variable's All (".*").
F = 'cluster=~"$cluster",job=~"$job",instance=~"$instance"'
HOST_DETAIL_UID = "hostiso-host-detail"


def sel(metric, extra=""):
    """metric{job=~"$job",instance=~"$instance"[,extra]}"""
    return "%s{%s%s}" % (metric, F, ("," + extra) if extra else "")


def host_link(field_expr):
    """Data link to the host detail dashboard for one instance."""
    return [{
        "title": "Host detail for ${__field.labels.instance}"
        if "__field" in field_expr else "Host detail",
        "url": "/d/%s/hostiso-host-detail?${datasource:queryparam}&${cluster:queryparam}"
               "&${job:queryparam}"
               "&var-instance=%s&${__url_time_range}" % (HOST_DETAIL_UID, field_expr),
    }]


def thresholds(*steps):
    """thresholds(("green", None), ("red", 1))"""
    return {"mode": "absolute",
            "steps": [{"color": c, "value": v} for c, v in steps]}


GREEN = thresholds(("green", None))


class Target:
    def __init__(self, expr, legend="", instant=False, fmt="time_series", hide=False):
        self.expr, self.legend, self.instant, self.fmt = expr, legend, instant, fmt
        self.hide = hide

    def json(self, ref):
        t = {
            "datasource": dict(DS),
            "editorMode": "code",
            "expr": self.expr,
            "format": self.fmt,
            "instant": self.instant,
            "legendFormat": self.legend,
            "range": not self.instant,
            "refId": ref,
        }
        if self.hide:
            t["hide"] = True
        return t


def _targets(targets):
    return [t.json(chr(ord("A") + i)) for i, t in enumerate(targets)]


class Layout:
    """Places panels left to right, top to bottom on Grafana's 24-column grid."""

    def __init__(self):
        self.panels = []
        self.next_id = 1
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.collapsed_row = None

    def _place(self, w, h):
        if self.x + w > 24:
            self.x = 0
            self.y += self.row_h
            self.row_h = 0
        pos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title, collapsed=False):
        if self.x:
            self.y += self.row_h
        self.x, self.row_h = 0, 0
        p = {"collapsed": collapsed, "datasource": dict(DS),
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
             "id": self.next_id, "panels": [], "title": title, "type": "row"}
        self.next_id += 1
        self.y += 1
        self.panels.append(p)
        self.collapsed_row = p if collapsed else None

    def add(self, panel, w, h):
        panel["id"] = self.next_id
        self.next_id += 1
        panel["gridPos"] = self._place(w, h)
        if self.collapsed_row is not None:
            self.collapsed_row["panels"].append(panel)
        else:
            self.panels.append(panel)


def _base(kind, title, desc, targets, unit, defaults=None, overrides=None):
    d = {"unit": unit, "color": {"mode": "palette-classic"}, "thresholds": GREEN,
         "mappings": []}
    if defaults:
        d.update(defaults)
    return {
        "datasource": dict(DS),
        "description": desc,
        "fieldConfig": {"defaults": d, "overrides": overrides or []},
        "options": {},
        "targets": _targets(targets),
        "title": title,
        "type": kind,
    }


def timeseries(title, desc, targets, unit, stack=False, bars=False, minv=0, maxv=None,
               thresh=None, overrides=None, calcs=("mean", "max", "lastNotNull"),
               points=False):
    custom = {
        "axisCenteredZero": False, "axisPlacement": "auto", "axisSoftMin": minv,
        "drawStyle": "bars" if bars else ("points" if points else "line"),
        "fillOpacity": 70 if bars else (25 if stack else 8),
        "gradientMode": "none", "lineInterpolation": "stepAfter" if points else "linear",
        "lineWidth": 1, "pointSize": 4, "showPoints": "always" if points else "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
        "thresholdsStyle": {"mode": "line+area" if thresh else "off"},
    }
    defaults = {"custom": custom}
    if maxv is not None:
        defaults["max"] = maxv
    if thresh:
        defaults["thresholds"] = thresh
    p = _base("timeseries", title, desc, targets, unit, defaults, overrides)
    legend_sort = {"sortBy": "Max", "sortDesc": True} if "max" in calcs else {}
    p["options"] = {
        "legend": {"calcs": list(calcs), "displayMode": "table", "placement": "bottom",
                   "showLegend": True, **legend_sort},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return p


def stat(title, desc, targets, unit, thresh=GREEN, mappings=None, color="background",
         no_value=None, decimals=None):
    defaults = {"thresholds": thresh, "mappings": mappings or [],
                "color": {"mode": "thresholds"}}
    if no_value is not None:
        defaults["noValue"] = no_value
    if decimals is not None:
        defaults["decimals"] = decimals
    p = _base("stat", title, desc, targets, unit, defaults)
    p["options"] = {
        "colorMode": color, "graphMode": "none", "justifyMode": "auto",
        "orientation": "auto", "textMode": "auto",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    }
    return p


def bargauge(title, desc, targets, unit, thresh, minv=0, maxv=None, no_value=None,
             link=True):
    defaults = {"thresholds": thresh, "color": {"mode": "thresholds"}, "min": minv}
    if maxv is not None:
        defaults["max"] = maxv
    if no_value is not None:
        defaults["noValue"] = no_value
    if link:
        defaults["links"] = host_link("${__field.labels.instance}")
    p = _base("bargauge", title, desc, targets, unit, defaults)
    p["options"] = {
        "displayMode": "gradient", "minVizHeight": 10, "minVizWidth": 0,
        "orientation": "horizontal", "showUnfilled": True, "valueMode": "color",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    }
    return p


def table(title, desc, targets, unit, transformations, overrides=None, no_value=None,
          sort=None):
    defaults = {"custom": {"align": "auto", "cellOptions": {"type": "auto"},
                           "inspect": False, "filterable": True},
                "color": {"mode": "thresholds"}}
    if no_value is not None:
        defaults["noValue"] = no_value
    p = _base("table", title, desc, targets, unit, defaults, overrides)
    p["options"] = {"cellHeight": "sm",
                    "footer": {"show": False, "reducer": ["sum"], "fields": ""},
                    "showHeader": True, "sortBy": sort or []}
    p["transformations"] = transformations
    return p


def heatmap(title, desc, targets, unit, scheme="Oranges"):
    p = _base("heatmap", title, desc, targets, unit,
              {"custom": {"hideFrom": {"legend": False, "tooltip": False, "viz": False},
                          "scaleDistribution": {"type": "linear"}}})
    p["options"] = {
        "calculate": False, "cellGap": 1, "cellValues": {"unit": unit},
        "color": {"exponent": 0.5, "fill": "dark-orange", "min": 0, "mode": "scheme",
                  "reverse": False, "scale": "exponential", "scheme": scheme,
                  "steps": 64},
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
        "legend": {"show": True}, "rowsFrame": {"layout": "auto"},
        "showValue": "never",
        "tooltip": {"show": True, "yHistogram": False},
        "yAxis": {"axisLabel": "CPU", "axisPlacement": "left", "reverse": False},
    }
    return p


def state_timeline(title, desc, targets, unit, mappings, thresh):
    p = _base("state-timeline", title, desc, targets, unit,
              {"mappings": mappings, "thresholds": thresh,
               "color": {"mode": "thresholds"},
               "custom": {"fillOpacity": 80, "lineWidth": 0}})
    p["options"] = {"alignValue": "left", "legend": {"displayMode": "list",
                                                     "placement": "bottom",
                                                     "showLegend": False},
                    "mergeValues": True, "rowHeight": 0.9, "showValue": "never",
                    "tooltip": {"mode": "single", "sort": "none"}}
    return p


def organize(exclude=(), order=(), rename=None):
    return {"id": "organize", "options": {
        "excludeByName": {k: True for k in exclude},
        "indexByName": {k: i for i, k in enumerate(order)},
        "renameByName": rename or {}}}


MERGE = {"id": "merge", "options": {}}


def override_unit(field, unit, extra=None):
    props = [{"id": "unit", "value": unit}]
    props += extra or []
    return {"matcher": {"id": "byName", "options": field}, "properties": props}


def instance_link_override():
    return {"matcher": {"id": "byName", "options": "instance"},
            "properties": [{"id": "links", "value": host_link("${__data.fields.instance}")}]}


UP_MAPPINGS = [{"type": "value", "options": {
    "0": {"color": "red", "index": 0, "text": "DOWN"},
    "1": {"color": "green", "index": 1, "text": "UP"}}}]
OK_MAPPINGS = [{"type": "value", "options": {
    "0": {"color": "red", "index": 0, "text": "FAILING"},
    "1": {"color": "green", "index": 1, "text": "OK"}}}]
RED_FROM_1 = thresholds(("green", None), ("red", 1))
RED_BELOW_0 = thresholds(("red", None), ("green", 0))


def variables(instance_multi):
    q_cluster = "label_values(hostiso_build_info, cluster)"
    q_job = 'label_values(hostiso_build_info{cluster=~"$cluster"}, job)'
    q_inst = 'label_values(hostiso_build_info{cluster=~"$cluster",job=~"$job"}, instance)'

    def query_var(name, label, q, multi, all_value=None):
        # multi-value variables start on "All" (the whole fleet)
        current = ({"selected": True, "text": ["All"], "value": ["$__all"]}
                   if multi else {})
        v = {"current": current, "datasource": dict(DS), "definition": q, "hide": 0,
             "includeAll": multi, "label": label, "multi": multi, "name": name,
             "options": [], "query": {"query": q, "refId": "StandardVariableQuery"},
             "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 1,
             "type": "query"}
        if all_value:
            v["allValue"] = all_value
        return v

    return {"list": [
        {"current": {}, "hide": 0, "includeAll": False, "label": "Data source",
         "multi": False, "name": "datasource", "options": [], "query": "prometheus",
         "refresh": 1, "regex": "", "skipUrlSync": False, "type": "datasource"},
        # All clusters = ".*", which also matches series without the label
        # (one Prometheus per cluster, no external label).
        query_var("cluster", "Cluster", q_cluster, True, ".*"),
        query_var("job", "Job", q_job, True),
        # All jobs = the alternation of the hostiso jobs (not ".+", which would
        # pull every target's `up` into the panels). All hosts = ".+": every
        # query also filters on $job.
        query_var("instance", "Host", q_inst, instance_multi,
                  ".+" if instance_multi else None),
    ]}


def dashboard(uid, title, desc, layout, tags, instance_multi, annotations=None):
    return {
        "annotations": {"list": annotations or []},
        "description": desc,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{"asDropdown": False, "icon": "external link", "includeVars": True,
                   "keepTime": True, "tags": ["hostiso"], "targetBlank": False,
                   "title": "hostiso dashboards", "tooltip": "", "type": "dashboards",
                   "url": ""}],
        "liveNow": False,
        "panels": layout.panels,
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["hostiso"] + tags,
        "templating": variables(instance_multi),
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


# --------------------------------------------------------------------------
# Fleet overview
# --------------------------------------------------------------------------
def fleet_overview():
    L = Layout()
    L.row("Fleet at a glance")
    L.add(stat("Hosts reporting",
               "Hosts whose exporter exposes hostiso_build_info. Compare with your "
               "inventory: a missing host is not monitored.",
               [Target("count(%s)" % sel("hostiso_build_info"))], "short",
               no_value="0"), 3, 4)
    L.add(stat("Exporters down",
               "Scrape targets of the selected jobs that Prometheus cannot scrape (up == 0). "
               "Anything above 0 means blind spots.",
               [Target("count(%s == 0) or vector(0)" % sel("up"))], "short", RED_FROM_1),
          3, 4)
    L.add(stat("Collectors failing",
               "Collector runs that failed on the last scrape, across the fleet "
               "(hostiso_collector_success == 0). See the exporter health table below.",
               [Target("count(%s == 0) or vector(0)" % sel("hostiso_collector_success"))],
               "short", RED_FROM_1), 3, 4)
    L.add(stat("Hosts with violations",
               "Hosts with at least one isolation violation now.",
               [Target("count(sum by (cluster, job, instance) (%s) > 0) or vector(0)"
                       % sel("hostiso_violating_subjects"))], "short", RED_FROM_1), 3, 4)
    L.add(stat("Violating subjects",
               "Subjects (vCPUs, threads, IRQs, config files, ...) in violation now, "
               "summed over all kinds and hosts.",
               [Target("sum(%s)" % sel("hostiso_violating_subjects"))], "short", RED_FROM_1), 3, 4)
    L.add(stat("Hosts without isolation",
               "Hosts where no guest CPU set was found in nova.conf (every CPU is shared "
               "between host and guests). Intended for non-isolated hosts only.",
               [Target("count(%s == 0) or vector(0)" % sel("hostiso_isolation_configured"))],
               "short", thresholds(("green", None), ("yellow", 1))), 3, 4)
    L.add(stat("Mean host steal",
               "Average over hosts of the share of CPU time stolen (5m rate). "
               "Steal on a hypervisor means it is itself a guest or oversubscribed.",
               [Target("avg(%s)" % sel("instance:hostiso_cpu_steal:ratio_rate5m"))],
               "percentunit", thresholds(("green", None), ("yellow", 0.02), ("red", 0.1)),
               decimals=2), 3, 4)
    L.add(stat("Worst guest vCPU delay",
               "Highest vCPU run delay of any guest (seconds waited per second by its "
               "worst vCPU, 5m). This is the steal the guest sees. Pinned guests should "
               "stay near 0.",
               [Target("max(%s)" % sel("instance_domain:hostiso_vcpu_delay:ratio_rate5m"))],
               "percentunit", thresholds(("green", None), ("yellow", 0.05), ("red", 0.2)),
               decimals=2), 3, 4)

    L.row("Rankings")
    L.add(bargauge("Hosts ranked by steal",
                   "Top 15 hosts by share of CPU time stolen from the hypervisor (5m rate). "
                   "Click a bar to open the host detail.",
                   [Target("sort_desc(topk(15, %s))"
                           % sel("instance:hostiso_cpu_steal:ratio_rate5m"),
                           "{{instance}}", instant=True)],
                   "percentunit", thresholds(("green", None), ("yellow", 0.02), ("red", 0.1)),
                   maxv=1), 8, 10)
    L.add(bargauge("Hosts ranked by vCPU delay",
                   "Top 15 hosts by the vCPU run delay of their worst guest (seconds waited "
                   "per second, 5m). High values: guests wait for a physical CPU, look for "
                   "overcommit, floating vCPUs on busy cores or host intrusion.",
                   [Target("sort_desc(topk(15, max by (cluster, job, instance) (%s)))"
                           % sel("instance_domain:hostiso_vcpu_delay:ratio_rate5m"),
                           "{{instance}}", instant=True)],
                   "percentunit", thresholds(("green", None), ("yellow", 0.05), ("red", 0.2)),
                   maxv=1), 8, 10)
    L.add(bargauge("Hosts ranked by violations",
                   "Top 15 hosts by number of subjects in violation now (all kinds). "
                   "Empty is good.",
                   [Target("sort_desc(topk(15, sum by (cluster, job, instance) (%s) > 0))"
                           % sel("hostiso_violating_subjects"), "{{instance}}", instant=True)],
                   "short", thresholds(("orange", None), ("red", 5)), minv=0,
                   no_value="No violations"), 8, 10)

    L.row("Violations")
    L.add(table("Current violations",
                "One row per subject violating now: which host, which kind, the subject "
                "(vCPU, emulator thread, process, IRQ, config) and the offending CPUs. "
                "The runbooks explain each kind.",
                [Target(sel("hostiso_violation_info"), instant=True, fmt="table")],
                "none",
                [organize(exclude=("Time", "Value", "__name__", "job"),
                          order=("instance", "kind", "subject", "cpus"),
                          rename={"cpus": "offending CPUs"})],
                overrides=[instance_link_override()], no_value="No violations",
                sort=[{"displayName": "instance", "desc": False}]), 24, 9)
    L.add(timeseries("Subjects in violation by kind",
                     "Subjects in violation over time, fleet wide, stacked by kind. "
                     "A kind that appears fleet wide at once usually means a config rollout.",
                     [Target("sum by (kind) (%s) > 0" % sel("hostiso_violating_subjects"),
                             "{{kind}}")],
                     "short", stack=True, bars=False), 12, 8)
    L.add(timeseries("Violation onsets by kind",
                     "How many subjects entered violation per interval (increase of "
                     "hostiso_violations_total). Repeated onsets mean a flapping cause.",
                     [Target("sum by (kind) (increase(%s[$__rate_interval])) > 0"
                             % sel("hostiso_violations_total"), "{{kind}}")],
                     "short", stack=True, bars=True), 12, 8)

    L.row("Contention over time")
    L.add(timeseries("Steal, worst 10 hosts",
                     "Share of CPU time stolen (5m rate) for the 10 hosts with the most "
                     "steal at each point in time.",
                     [Target("topk(10, %s)" % sel("instance:hostiso_cpu_steal:ratio_rate5m"),
                             "{{instance}}")], "percentunit"), 12, 8)
    L.add(table("Guests with the most vCPU delay",
                "The 20 guests whose worst vCPU waited most for a physical CPU (5m), with "
                "their Nova instance name, project and flavor.",
                [Target("topk(20, %s * on (cluster, job, instance, domain) group_left "
                        "(instance_name, project_name, flavor, cpu_policy) %s)"
                        % (sel("instance_domain:hostiso_vcpu_delay:ratio_rate5m"),
                           sel("hostiso_domain_info")), instant=True, fmt="table")],
                "none",
                [organize(exclude=("Time", "__name__", "job"),
                          order=("instance", "domain", "instance_name", "project_name",
                                 "flavor", "cpu_policy", "Value"),
                          rename={"Value": "vCPU delay"})],
                overrides=[instance_link_override(),
                           override_unit("vCPU delay", "percentunit",
                                         [{"id": "custom.cellOptions",
                                           "value": {"type": "color-text"}},
                                          {"id": "thresholds", "value": thresholds(
                                              ("green", None), ("yellow", 0.05),
                                              ("red", 0.2))}])],
                sort=[{"displayName": "vCPU delay", "desc": True}]), 12, 8)

    L.row("Exporter health")
    L.add(state_timeline("Exporter up",
                         "Scrape status of every exporter of the selected jobs. Red: "
                         "Prometheus could not scrape it and every other panel is blind "
                         "for that host.",
                         [Target(sel("up"), "{{instance}}")], "none", UP_MAPPINGS,
                         thresholds(("red", None), ("green", 1))), 12, 8)
    L.add(table("Collectors failing now",
                "Collectors that failed on the last scrape (hostiso_collector_success == 0). "
                "Check the exporter's log on that host.",
                [Target("%s == 0" % sel("hostiso_collector_success"), instant=True,
                        fmt="table")],
                "none",
                [organize(exclude=("Time", "Value", "__name__", "job"),
                          order=("instance", "collector"))],
                overrides=[instance_link_override()],
                no_value="All collectors succeeded"), 6, 8)
    L.add(table("Exporter versions",
                "How many hosts run each exporter version and revision.",
                [Target("count by (version, revision) (%s)" % sel("hostiso_build_info"),
                        instant=True, fmt="table")],
                "short",
                [organize(exclude=("Time",), order=("version", "revision", "Value"),
                          rename={"Value": "hosts"})]), 6, 8)
    return dashboard(
        "hostiso-fleet-overview", "hostiso / Fleet overview",
        "Which compute hosts steal, delay their guests' vCPUs or break CPU isolation.",
        L, ["fleet"], instance_multi=True)


# --------------------------------------------------------------------------
# Host detail
# --------------------------------------------------------------------------
# hostiso_cpu_role is 1 for the CPU's role; "== 1" keeps the join one-to-one even if
# an exporter ever exposed 0-valued series for the other roles.
ROLE_JOIN = ("rate(%s[$__rate_interval]) * on (cluster, job, instance, cpu) group_left (role) "
             "(%s == 1)")


def host_detail():
    L = Layout()
    L.row("Host at a glance")
    L.add(stat("Exporter", "Prometheus can scrape the exporter on this host.",
               [Target(sel("up"))], "none", thresholds(("red", None), ("green", 1)),
               UP_MAPPINGS), 3, 4)
    L.add(stat("Violations now", "Subjects in violation now, all kinds. Details below.",
               [Target("sum(%s)" % sel("hostiso_violating_subjects"))], "short", RED_FROM_1), 3, 4)
    L.add(stat("Isolation configured",
               "Whether nova.conf (or the exporter flag) defines a guest CPU set. "
               "NO: every CPU is shared by host and guests.",
               [Target(sel("hostiso_isolation_configured"))], "none",
               thresholds(("yellow", None), ("green", 1)),
               [{"type": "value", "options": {
                   "0": {"color": "yellow", "index": 0, "text": "NO"},
                   "1": {"color": "green", "index": 1, "text": "YES"}}}]), 3, 4)
    L.add(stat("Steal", "Share of this host's CPU time stolen (5m).",
               [Target(sel("instance:hostiso_cpu_steal:ratio_rate5m"))], "percentunit",
               thresholds(("green", None), ("yellow", 0.02), ("red", 0.1)), decimals=2),
          3, 4)
    L.add(stat("Host tasks on guest CPUs",
               "Host threads (not guests, not per-CPU kernel threads) allowed to run on a "
               "guest CPU: exposure that becomes a violation once they run there.",
               [Target(sel("hostiso_host_tasks_on_guest_cpus"))], "short",
               thresholds(("green", None), ("yellow", 1))), 3, 4)
    L.add(stat("Memory reserve headroom",
               "reserved_host_memory_mb minus what the host uses. Negative: the host is "
               "eating memory promised to guests.",
               [Target(sel("hostiso_memory_reserve_headroom_bytes"))], "bytes",
               RED_BELOW_0), 3, 4)
    L.add(stat("Disk reserve headroom",
               "Free instance storage minus reserved_host_disk_mb. Negative: guests can "
               "fill the disk the host needs.",
               [Target(sel("hostiso_disk_reserve_headroom_bytes"))], "bytes",
               RED_BELOW_0), 3, 4)
    L.add(stat("libvirt", "The exporter's last libvirt refresh succeeded.",
               [Target(sel("hostiso_libvirt_up"))], "none",
               thresholds(("red", None), ("green", 1)), OK_MAPPINGS), 3, 4)

    L.row("CPU time by core role")
    L.add(timeseries("Busy share of each role, by consumer",
                     "For each core role (host, dedicated, shared, guest), the share of its "
                     "CPU time used by host tasks, guests and steal (5m). Host time on "
                     "dedicated/shared cores is intrusion; guest time on host cores means "
                     "vCPUs escape their pinning.",
                     [Target(sel("instance_role_consumer:hostiso_cpu_seconds:share_rate5m",
                                 'consumer!="idle"'), "{{role}} {{consumer}}")],
                     "percentunit"), 12, 9)
    L.add(timeseries("Cores busy by role and consumer",
                     "CPU seconds per second (= cores busy) by core role and consumer, "
                     "stacked. The stack height is how many cores are busy.",
                     [Target("sum by (role, consumer) (%s)" % (
                         ROLE_JOIN % (sel("hostiso_cpu_seconds_total", 'consumer!="idle"'),
                                      sel("hostiso_cpu_role"))), "{{role}} {{consumer}}")],
                     "short", stack=True), 12, 9)
    L.add(heatmap("Host time per core",
                  "Share of each core's time used by host tasks. On guest cores (see the "
                  "role table) this should be close to 0.",
                  [Target("sum by (cpu) (rate(%s[$__rate_interval]))"
                          % sel("hostiso_cpu_seconds_total", 'consumer="host"'), "{{cpu}}")],
                  "percentunit", "Blues"), 8, 9)
    L.add(heatmap("Guest time per core",
                  "Share of each core's time running guests. On host cores this should be 0.",
                  [Target("sum by (cpu) (rate(%s[$__rate_interval]))"
                          % sel("hostiso_cpu_seconds_total", 'consumer="guest"'), "{{cpu}}")],
                  "percentunit", "Greens"), 8, 9)
    L.add(heatmap("Steal per core",
                  "Share of each core's time stolen by the layer below this hypervisor (5m).",
                  [Target(sel("instance_cpu:hostiso_cpu_steal:ratio_rate5m"), "{{cpu}}")],
                  "percentunit", "Reds"), 8, 9)
    L.add(table("Per-core consumption now",
                "Each core (number / role) with the share of its time by consumer over the "
                "last rate interval. Look for host time on dedicated cores and guest time "
                "on host cores.",
                [Target('label_join(sum by (cpu, role, consumer) (%s), "core", " / ", '
                        '"cpu", "role")' % (ROLE_JOIN % (sel("hostiso_cpu_seconds_total"),
                                                         sel("hostiso_cpu_role"))),
                        instant=True, fmt="table")],
                "percentunit",
                [{"id": "groupingToMatrix", "options": {
                    "columnField": "consumer", "rowField": "core", "valueField": "Value"}},
                 organize(order=("core\\consumer", "host", "guest", "steal", "idle"),
                          rename={"core\\consumer": "cpu / role"})],
                overrides=[override_unit("cpu / role", "none")]), 12, 10)
    L.add(table("Core roles and kernel isolation",
                "Role of each CPU from nova.conf next to the kernel's isolcpus and nohz_full "
                "(1 = set). Host and shared cores must not be isolated; dedicated cores "
                "usually are.",
                [Target("max by (cluster, job, instance, cpu, role) (%s == 1)"
                        % sel("hostiso_cpu_role"),
                        instant=True, fmt="table"),
                 Target("max by (cluster, job, instance, cpu) (%s)" % sel("hostiso_cpu_isolated"),
                        instant=True, fmt="table"),
                 Target("max by (cluster, job, instance, cpu) (%s)" % sel("hostiso_cpu_nohz_full"),
                        instant=True, fmt="table"),
                 Target("max by (cluster, job, instance, cpu) (%s)" % sel("hostiso_cpu_online"),
                        instant=True, fmt="table")],
                "none",
                [MERGE,
                 organize(exclude=("Time", "cluster", "job", "instance", "Value #A"),
                          order=("cpu", "role", "Value #B", "Value #C", "Value #D"),
                          rename={"Value #B": "isolcpus", "Value #C": "nohz_full",
                                  "Value #D": "online"})],
                sort=[{"displayName": "cpu", "desc": False}]), 12, 10)
    L.add(timeseries("Run-queue wait per CPU",
                     "Time tasks waited for each CPU (from /proc/schedstat; empty on kernels "
                     "without it). Waiting on a dedicated core means something shares it "
                     "with the vCPU pinned there.",
                     [Target("rate(%s[$__rate_interval])"
                             % sel("hostiso_cpu_runqueue_wait_seconds_total"), "cpu {{cpu}}")],
                     "percentunit"), 24, 8)

    L.row("Guests and vCPUs")
    L.add(timeseries("vCPU delay per guest (worst vCPU)",
                     "Seconds per second the worst vCPU of each guest was runnable but "
                     "waiting for a physical CPU: the steal the guest sees. Pinned guests on "
                     "dedicated cores should stay near 0.",
                     [Target("max by (domain) (rate(%s[$__rate_interval]))"
                             % sel("hostiso_vcpu_delay_seconds_total"), "{{domain}}")],
                     "percentunit",
                     thresh=thresholds(("transparent", None), ("red", 0.2))), 12, 9)
    L.add(timeseries("vCPU delay by physical CPU",
                     "vCPU run delay attributed to the physical CPU the vCPU was on: which "
                     "cores are contended.",
                     [Target("rate(%s[$__rate_interval])"
                             % sel("hostiso_cpu_vcpu_delay_seconds_total"), "cpu {{cpu}}")],
                     "percentunit"), 12, 9)
    L.add(table("vCPU pinning now",
                "Each vCPU with how many physical CPUs it may run on (1 = pinned) and the "
                "CPU it last ran on. Floating vCPUs of dedicated-policy guests are a "
                "violation.",
                [Target("max by (cluster, job, instance, domain, vcpu) (%s)"
                        % sel("hostiso_vcpu_affinity_cpus"), instant=True, fmt="table"),
                 Target("max by (cluster, job, instance, domain, vcpu) (%s)"
                        % sel("hostiso_vcpu_cpu"),
                        instant=True, fmt="table")],
                "none",
                [MERGE,
                 organize(exclude=("Time", "cluster", "job", "instance"),
                          order=("domain", "vcpu", "Value #A", "Value #B"),
                          rename={"Value #A": "allowed CPUs (1 = pinned)",
                                  "Value #B": "last physical CPU"})],
                sort=[{"displayName": "domain", "desc": False}]), 12, 9)
    L.add(timeseries("Physical CPU of each vCPU",
                     "The physical CPU each vCPU last ran on. A pinned vCPU is a flat line; "
                     "steps show migrations.",
                     [Target(sel("hostiso_vcpu_cpu"), "{{domain}} vcpu {{vcpu}}")],
                     "none", points=True, calcs=("lastNotNull",)), 12, 9)
    L.add(timeseries("vCPU run time per guest",
                     "CPU time the vCPU threads of each guest ran (1 = one core busy). "
                     "Compare with the guest's vCPU count and with its vCPU delay.",
                     [Target("sum by (domain) (rate(%s[$__rate_interval]))"
                             % sel("hostiso_vcpu_time_seconds_total"), "{{domain}}")],
                     "short", stack=True), 12, 9)
    L.add(table("Guests",
                "Running libvirt domains with their Nova metadata, vCPUs, allocated memory "
                "and QEMU resident memory.",
                [Target("max by (cluster, job, instance, domain, instance_name, project_name, "
                        "flavor, "
                        "cpu_policy) (%s)" % sel("hostiso_domain_info"),
                        instant=True, fmt="table"),
                 Target("max by (cluster, job, instance, domain) (%s)"
                        % sel("hostiso_domain_vcpus"),
                        instant=True, fmt="table"),
                 Target("max by (cluster, job, instance, domain) (%s)"
                        % sel("hostiso_domain_memory_bytes"), instant=True, fmt="table"),
                 Target("max by (cluster, job, instance, domain) (%s)"
                        % sel("hostiso_domain_rss_bytes"), instant=True, fmt="table")],
                "none",
                [MERGE,
                 organize(exclude=("Time", "cluster", "job", "instance", "Value #A"),
                          order=("domain", "instance_name", "project_name", "flavor",
                                 "cpu_policy", "Value #B", "Value #C", "Value #D"),
                          rename={"Value #B": "vCPUs", "Value #C": "memory",
                                  "Value #D": "QEMU RSS"})],
                overrides=[override_unit("memory", "bytes"),
                           override_unit("QEMU RSS", "bytes")],
                sort=[{"displayName": "domain", "desc": False}]), 12, 9)

    L.row("Host intrusion on guest CPUs")
    L.add(timeseries("Intrusion by process name",
                     "CPU time (1 = one core) that threads belonging to no guest used on "
                     "guest cores, by process name. `kernel` is per-CPU kernel threads; "
                     "anything else (ovs-vswitchd, monitoring agents...) should be moved to "
                     "host cores.",
                     [Target("sum by (comm) (rate(%s[$__rate_interval]))"
                             % sel("hostiso_intrusion_seconds_total"), "{{comm}}")],
                     "percentunit", stack=True), 12, 9)
    L.add(timeseries("Intrusion by guest CPU",
                     "The same intrusion time by guest core: which guest cores the host uses.",
                     [Target("sum by (cpu) (rate(%s[$__rate_interval]))"
                             % sel("hostiso_intrusion_seconds_total"), "cpu {{cpu}}")],
                     "percentunit", stack=True), 8, 9)
    L.add(timeseries("Host tasks allowed on guest CPUs",
                     "Host threads whose CPU affinity includes a guest core (exposure). "
                     "Should be 0 when host services are confined (systemd CPUAffinity).",
                     [Target(sel("hostiso_host_tasks_on_guest_cpus"), "host tasks")],
                     "short", calcs=("lastNotNull", "max")), 4, 9)

    L.row("Isolation violations")
    L.add(timeseries("Subjects in violation by kind",
                     "How many subjects violate isolation now, by kind. Empty is good.",
                     [Target("%s > 0" % sel("hostiso_violating_subjects"), "{{kind}}")],
                     "short", stack=True), 12, 8)
    L.add(timeseries("Violation onsets",
                     "Subjects that entered violation per interval (increase of "
                     "hostiso_violations_total), by kind.",
                     [Target("sum by (kind) (increase(%s[$__rate_interval])) > 0"
                             % sel("hostiso_violations_total"), "{{kind}}")],
                     "short", stack=True, bars=True), 12, 8)
    L.add(table("Current violations",
                "Every subject violating now with the offending CPUs. The runbook of each "
                "kind says how to fix it.",
                [Target(sel("hostiso_violation_info"), instant=True, fmt="table")],
                "none",
                [organize(exclude=("Time", "Value", "__name__", "cluster", "job", "instance"),
                          order=("kind", "subject", "cpus"),
                          rename={"cpus": "offending CPUs"})],
                no_value="No violations",
                sort=[{"displayName": "kind", "desc": False}]), 24, 8)

    L.row("Memory and disk headroom")
    L.add(timeseries("Host memory vs reservation",
                     "Memory the host uses (everything but guests) against "
                     "reserved_host_memory_mb. Headroom below 0 means the host eats guest "
                     "memory: risk of OOM kills of guests.",
                     [Target(sel("hostiso_memory_reserved_bytes"), "reserved for the host"),
                      Target(sel("hostiso_memory_host_used_bytes"), "used by the host"),
                      Target(sel("hostiso_memory_reserve_headroom_bytes"), "headroom")],
                     "bytes", minv=None,
                     thresh=thresholds(("red", None), ("transparent", 0))), 12, 8)
    L.add(timeseries("Guest memory: allocated vs capacity",
                     "Memory of running guests against (total - reserved) x "
                     "ram_allocation_ratio. Allocated above capacity is RAM overcommit.",
                     [Target(sel("hostiso_memory_guest_allocated_bytes"), "allocated to guests"),
                      Target(sel("hostiso_memory_guest_capacity_bytes"), "guest capacity"),
                      Target(sel("hostiso_memory_total_bytes"), "MemTotal")],
                     "bytes"), 12, 8)
    L.add(timeseries("Instance storage: free vs reserve",
                     "Free space of the instance storage against reserved_host_disk_mb. "
                     "Headroom below 0: guests can fill the disk the host needs.",
                     [Target(sel("hostiso_disk_free_bytes", 'role="instances"'),
                             "free {{path}}"),
                      Target(sel("hostiso_disk_reserved_bytes"), "reserved"),
                      Target(sel("hostiso_disk_reserve_headroom_bytes"), "headroom")],
                     "bytes", minv=None,
                     thresh=thresholds(("red", None), ("transparent", 0))), 12, 8)
    L.add(bargauge("Free space by storage role",
                   "Free share of each filesystem or volume group the exporter watches "
                   "(instances, snapshots, root, volume_group).",
                   [Target("%s / %s" % (sel("hostiso_disk_free_bytes"),
                                        sel("hostiso_disk_size_bytes")),
                           "{{role}} {{path}}", instant=True)],
                   "percentunit", thresholds(("red", None), ("yellow", 0.1), ("green", 0.2)),
                   maxv=1, link=False), 12, 8)

    L.row("Exporter", collapsed=True)
    L.add(timeseries("Collector success",
                     "1 when the collector's last run succeeded. A collector stuck at 0 "
                     "leaves its metrics stale or missing.",
                     [Target(sel("hostiso_collector_success"), "{{collector}}")],
                     "none", maxv=1, calcs=("min", "lastNotNull")), 8, 8)
    L.add(timeseries("Collector duration",
                     "Time each collector took on the last scrape. Rising durations push the "
                     "scrape towards its timeout.",
                     [Target(sel("hostiso_collector_duration_seconds"), "{{collector}}"),
                      Target(sel("scrape_duration_seconds"), "whole scrape")],
                     "s"), 8, 8)
    L.add(timeseries("Thread census age and duration",
                     "How old the thread census served is, and how long the last census "
                     "took. Age far above the census interval means the census is stuck.",
                     [Target(sel("hostiso_census_age_seconds"), "age of census data"),
                      Target(sel("hostiso_census_duration_seconds"), "census duration")],
                     "s"), 8, 8)
    L.add(timeseries("Threads seen by the census",
                     "Threads the last census examined.",
                     [Target(sel("hostiso_census_tasks"), "threads")], "short"), 8, 8)
    L.add(table("Configuration read",
                "What the exporter read from nova.conf and the kernel, as canonical CPU "
                "lists, and whether loading it succeeded.",
                [Target("max by (cluster, job, instance, source, path, cpu_dedicated_set, "
                        "cpu_shared_set, vcpu_pin_set, isolcpus, nohz_full, images_type) (%s)"
                        % sel("hostiso_config_info"), instant=True, fmt="table"),
                 Target("max by (cluster, job, instance, source) (%s)"
                        % sel("hostiso_config_load_success"), instant=True, fmt="table")],
                "none",
                [MERGE,
                 organize(exclude=("Time", "cluster", "job", "instance", "Value #A"),
                          order=("source", "path", "Value #B"),
                          rename={"Value #B": "loaded"})]), 16, 8)
    annotations = [{
        "datasource": dict(DS), "enable": True, "hide": False,
        "iconColor": "red", "name": "Violation onsets",
        "expr": "sum by (kind) (increase(%s[$__rate_interval])) > 0"
                % sel("hostiso_violations_total"),
        "step": "1m", "titleFormat": "violation onset", "textFormat": "{{kind}}",
        "useValueForTime": False,
    }]
    return dashboard(
        "hostiso-host-detail", "hostiso / Host detail",
        "One compute host: who uses which core, vCPU delay and pinning, host intrusion on "
        "guest cores, violations, memory and disk headroom.",
        L, ["host"], instance_multi=False, annotations=annotations)


# --------------------------------------------------------------------------
# Capacity planning
# --------------------------------------------------------------------------
DAYS_TO_DISK_RESERVE = (
    "sort(clamp_max(clamp_min("
    "%s / on (cluster, job, instance) "
    "(-(sum by (cluster, job, instance) (deriv(%s[6h])) < 0)) / 86400"
    ", 0), 365))")


def capacity_planning():
    L = Layout()
    L.row("Fleet capacity at a glance")
    L.add(stat("Hosts", "Hosts reporting.",
               [Target("count(%s)" % sel("hostiso_build_info"))], "short", no_value="0"),
          3, 4)
    L.add(stat("Spare shared vCPUs",
               "Sum over hosts of shared-policy vCPU capacity not yet allocated "
               "(per host, never below 0). Fragmented: a flavor must fit on one host.",
               [Target('sum(clamp_min(%s - %s, 0))'
                       % (sel("hostiso_vcpu_capacity", 'policy="shared"'),
                          sel("hostiso_vcpus_allocated", 'policy="shared"')))],
               "short", thresholds(("red", None), ("yellow", 8), ("green", 32)),
               no_value="0"), 3, 4)
    L.add(stat("Spare dedicated vCPUs",
               "Sum over hosts of dedicated CPUs not yet used by pinned vCPUs.",
               [Target('sum(clamp_min(%s - %s, 0))'
                       % (sel("hostiso_vcpu_capacity", 'policy="dedicated"'),
                          sel("hostiso_vcpus_allocated", 'policy="dedicated"')))],
               "short", thresholds(("red", None), ("yellow", 4), ("green", 16)),
               no_value="0"), 3, 4)
    L.add(stat("Spare guest memory",
               "Sum over hosts of guest memory capacity not yet allocated.",
               [Target("sum(clamp_min(%s - %s, 0))"
                       % (sel("hostiso_memory_guest_capacity_bytes"),
                          sel("hostiso_memory_guest_allocated_bytes")))],
               "bytes", GREEN), 3, 4)
    L.add(stat("Hosts over vCPU capacity",
               "Hosts where allocated vCPUs exceed capacity for a policy (cpu_overcommit).",
               [Target("count(count by (cluster, job, instance) (%s > 1)) or vector(0)"
                       % sel("instance_policy:hostiso_vcpus_allocated:ratio"))],
               "short", RED_FROM_1), 3, 4)
    L.add(stat("Hosts over RAM capacity",
               "Hosts where guest memory allocated exceeds guest capacity (ram_overcommit).",
               [Target("count(%s > 1) or vector(0)"
                       % sel("instance:hostiso_memory_guest_allocated:ratio"))],
               "short", RED_FROM_1), 3, 4)
    L.add(stat("Hosts below memory reserve",
               "Hosts whose own memory use exceeds reserved_host_memory_mb.",
               [Target("count(%s < 0) or vector(0)"
                       % sel("hostiso_memory_reserve_headroom_bytes"))],
               "short", RED_FROM_1), 3, 4)
    L.add(stat("Hosts below disk reserve",
               "Hosts whose free instance storage is below reserved_host_disk_mb.",
               [Target("count(%s < 0) or vector(0)"
                       % sel("hostiso_disk_reserve_headroom_bytes"))],
               "short", RED_FROM_1), 3, 4)

    L.row("vCPUs")
    L.add(timeseries("vCPUs allocated vs capacity, by policy",
                     "Fleet sums of vCPUs of running guests and of vCPU capacity "
                     "(shared: CPUs x cpu_allocation_ratio; dedicated: CPUs). The gap is "
                     "what is left to schedule.",
                     [Target("sum by (policy) (%s)" % sel("hostiso_vcpus_allocated"),
                             "allocated {{policy}}"),
                      Target("sum by (policy) (%s)" % sel("hostiso_vcpu_capacity"),
                             "capacity {{policy}}")],
                     "short"), 12, 9)
    L.add(bargauge("vCPU allocation ratio, fullest hosts",
                   "Allocated / capacity per host and policy, top 20. Above 100% is "
                   "overcommit beyond the configured allocation ratio.",
                   [Target("sort_desc(topk(20, %s))"
                           % sel("instance_policy:hostiso_vcpus_allocated:ratio"),
                           "{{instance}} {{policy}}", instant=True)],
                   "percentunit", thresholds(("green", None), ("yellow", 0.85), ("red", 1)),
                   maxv=1), 12, 9)
    L.add(timeseries("vCPU allocation ratio by policy",
                     "Fleet mean and fullest host per policy. A rising mean with a flat "
                     "maximum means the scheduler still spreads; both near 100% means the "
                     "policy is full.",
                     [Target("avg by (policy) (%s)"
                             % sel("instance_policy:hostiso_vcpus_allocated:ratio"),
                             "mean {{policy}}"),
                      Target("max by (policy) (%s)"
                             % sel("instance_policy:hostiso_vcpus_allocated:ratio"),
                             "fullest host {{policy}}")],
                     "percentunit", thresh=thresholds(("transparent", None), ("red", 1))),
          16, 8)
    L.add(table("Configured allocation ratios",
                "cpu/ram/disk_allocation_ratio of each host from nova.conf. Hosts of one "
                "aggregate should agree; an outlier skews the capacity above.",
                [Target("max by (instance, resource) (%s)" % sel("hostiso_allocation_ratio"),
                        instant=True, fmt="table")],
                "none",
                [{"id": "groupingToMatrix", "options": {
                    "columnField": "resource", "rowField": "instance", "valueField": "Value"}},
                 organize(order=("instance\\resource", "cpu", "ram", "disk"),
                          rename={"instance\\resource": "instance"})],
                overrides=[instance_link_override()]), 8, 8)

    L.row("Memory")
    L.add(timeseries("Guest RAM allocated vs capacity",
                     "Fleet sums of memory allocated to running guests and of guest memory "
                     "capacity ((MemTotal - reserved) x ram_allocation_ratio).",
                     [Target("sum(%s)" % sel("hostiso_memory_guest_allocated_bytes"),
                             "allocated"),
                      Target("sum(%s)" % sel("hostiso_memory_guest_capacity_bytes"),
                             "capacity")],
                     "bytes"), 12, 9)
    L.add(bargauge("Guest RAM allocation ratio, fullest hosts",
                   "Guest memory allocated / capacity, top 20 hosts.",
                   [Target("sort_desc(topk(20, %s))"
                           % sel("instance:hostiso_memory_guest_allocated:ratio"),
                           "{{instance}}", instant=True)],
                   "percentunit", thresholds(("green", None), ("yellow", 0.9), ("red", 1)),
                   maxv=1), 12, 9)
    L.add(timeseries("Memory reserve headroom ratio, lowest 10 hosts",
                     "(reserved - host used) / reserved, the 10 tightest hosts at each "
                     "time. A downward trend means host services grow into guest memory; "
                     "below 0 the reservation is breached.",
                     [Target("bottomk(10, %s)"
                             % sel("instance:hostiso_memory_reserve_headroom:ratio"),
                             "{{instance}}")],
                     "percentunit", minv=None,
                     thresh=thresholds(("red", None), ("yellow", 0), ("transparent", 0.2))),
          12, 8)
    L.add(timeseries("Memory reserve headroom, 6h minimum",
                     "Lowest headroom ratio each host reached over the previous 6 hours, "
                     "for the 10 tightest hosts: dips that the 5m view hides.",
                     [Target("bottomk(10, min_over_time(%s[6h]))"
                             % sel("instance:hostiso_memory_reserve_headroom:ratio"),
                             "{{instance}}")],
                     "percentunit", minv=None,
                     thresh=thresholds(("red", None), ("transparent", 0))), 12, 8)

    L.row("Disk")
    L.add(bargauge("Days until the instance-storage reserve is reached",
                   "Disk reserve headroom divided by the rate at which instance storage "
                   "filled over the last 6 hours (deriv). Only hosts whose storage is "
                   "filling; capped at 365 days, 0 = already below the reserve.",
                   [Target(DAYS_TO_DISK_RESERVE % (
                       sel("hostiso_disk_reserve_headroom_bytes"),
                       sel("hostiso_disk_free_bytes", 'role="instances"')),
                       "{{instance}}", instant=True)],
                   "d", thresholds(("red", None), ("yellow", 7), ("green", 30)),
                   maxv=90, no_value="No host is filling its instance storage"), 12, 9)
    L.add(bargauge("Predicted disk reserve headroom in 7 days",
                   "Free instance storage predicted 7 days ahead from the last 6 hours "
                   "(predict_linear) minus the reserve: the 20 lowest. Negative bars will "
                   "breach the reserve within a week at the current pace.",
                   [Target("sort(bottomk(20, predict_linear(%s[6h], 7 * 86400) - on (cluster, job, "
                           "instance) group_left () %s))"
                           % (sel("hostiso_disk_free_bytes", 'role="instances"'),
                              sel("hostiso_disk_reserved_bytes")),
                           "{{instance}} {{path}}", instant=True)],
                   "bytes", RED_BELOW_0, minv=None), 12, 9)
    L.add(timeseries("Instance storage free ratio, lowest 10 hosts",
                     "Free / size of the instance storage, the 10 fullest hosts.",
                     [Target("bottomk(10, %s)" % sel("instance:hostiso_disk_free:ratio"),
                             "{{instance}} {{path}}")],
                     "percentunit", maxv=1,
                     thresh=thresholds(("red", None), ("yellow", 0.1), ("transparent", 0.2))),
          12, 8)
    L.add(timeseries("Disk reserve headroom ratio, lowest 10 hosts",
                     "(free instance storage - reserve) / reserve. Below 0 the reserve is "
                     "breached.",
                     [Target("bottomk(10, %s)"
                             % sel("instance:hostiso_disk_reserve_headroom:ratio"),
                             "{{instance}}")],
                     "percentunit", minv=None,
                     thresh=thresholds(("red", None), ("transparent", 0))), 12, 8)
    return dashboard(
        "hostiso-capacity-planning", "hostiso / Capacity planning",
        "vCPU, RAM and disk allocated against capacity and reservations, and how fast "
        "headroom shrinks.",
        L, ["capacity"], instance_multi=True)


DASHBOARDS = {
    "hostiso-fleet-overview.json": fleet_overview,
    "hostiso-host-detail.json": host_detail,
    "hostiso-capacity-planning.json": capacity_planning,
}


def render(build):
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if a committed file differs")
    ap.add_argument("--out", default=os.path.join(
                        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "mixin", "dashboards", "generated"),
                    help="output directory (default: %(default)s)")
    ap.add_argument("--quiet", action="store_true", help="do not list the files written")
    args = ap.parse_args()
    stale = []
    for name, build in DASHBOARDS.items():
        path = os.path.join(args.out, name)
        text = render(build)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(name)
            except FileNotFoundError:
                stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            if not args.quiet:
                print("wrote", path)
    if stale:
        print("stale dashboard templates (run python3 mixin/render.py): "
              + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
