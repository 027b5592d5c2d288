#!/usr/bin/env python3
"""Self-test of check_dashboards.py: it accepts the committed dashboards and
rejects each kind of broken dashboard (python3 stdlib, python3-yaml).

Every negative case copies the real dashboards/ directory to a temp dir,
breaks one thing, runs the checker as a subprocess and expects exit 1 with a
specific message. Run: python3 tests/dashboards/test_check_dashboards.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CHECKER = os.path.join(HERE, "check_dashboards.py")
DASHBOARDS = os.path.join(REPO, "dashboards")
RULES = os.path.join(REPO, "alerts", "hostiso.rules.yml")
sys.path.insert(0, HERE)
import check_dashboards  # noqa: E402

DS = {"type": "prometheus", "uid": "${datasource}"}
F = 'cluster=~"$cluster",job=~"$job",instance=~"$instance"'


def run_checker(dash_dir, *extra):
    r = subprocess.run([sys.executable, CHECKER, "--dashboards", dash_dir] + list(extra),
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hostiso-dash-test-")
        self.dir = os.path.join(self.tmp, "dashboards")
        shutil.copytree(DASHBOARDS, self.dir,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name="hostiso-host-detail.json"):
        return os.path.join(self.dir, name)

    def load(self, name="hostiso-host-detail.json"):
        with open(self.path(name)) as f:
            return json.load(f)

    def save(self, data, name="hostiso-host-detail.json"):
        with open(self.path(name), "w") as f:
            json.dump(data, f, indent=1)

    def panels(self, data):
        return [p for p, _ in check_dashboards.iter_panels(data["panels"])
                if p.get("type") != "row"]

    def first_panel(self, data, needle):
        for p in self.panels(data):
            for t in p.get("targets", []):
                if needle in t.get("expr", ""):
                    return p, t
        raise AssertionError("no target containing %r: fixture out of date" % needle)

    def add_panel(self, data, expr, unit="short"):
        data["panels"].append({
            "id": 999, "type": "timeseries", "title": "added by the test",
            "datasource": dict(DS), "gridPos": {"h": 8, "w": 12, "x": 0, "y": 1000},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "datasource": dict(DS), "expr": expr}]})

    def assertRejected(self, *needles, extra=()):
        rc, out = run_checker(self.dir, *extra)
        self.assertEqual(rc, 1, "checker accepted a broken dashboard:\n" + out)
        for n in needles:
            self.assertIn(n, out, "checker failed for another reason:\n" + out)
        return out

    def assertAccepted(self, extra=()):
        rc, out = run_checker(self.dir, *extra)
        self.assertEqual(rc, 0, "checker rejected a valid dashboard:\n" + out)
        return out

    def write_recording_rules(self, drop=None):
        """The shipped recording rules (not `drop`) as JSON, which is YAML a regular
        expression over `record:` lines would not read."""
        with open(RULES) as f:
            rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]
                     if "record" in r and r["record"] != drop]
        path = os.path.join(self.tmp, "rules.json.yml")
        with open(path, "w") as f:
            json.dump({"groups": [{"name": "r", "rules": rules}]}, f)
        return path


class AcceptsRealDashboards(Fixture):
    def test_committed_dashboards_pass(self):
        rc, out = run_checker(DASHBOARDS)
        self.assertEqual(rc, 0, out)
        self.assertIn("OK, 3 dashboards", out)

    def test_copy_passes(self):
        self.assertAccepted()

    @unittest.skipUnless(shutil.which("jsonnet"), "jsonnet not installed (Debian package "
                         "jsonnet): the mixin cannot be rendered here")
    def test_rendered_json_is_up_to_date(self):
        # The dashboards are rendered from the mixin's jsonnet (mixin/render.py).
        r = subprocess.run([sys.executable, os.path.join(REPO, "mixin", "render.py"),
                            "--check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_long_deriv_window_is_allowed(self):
        d = self.load()
        self.add_panel(d, 'deriv(hostiso_disk_free_bytes{%s,role="instances"}[6h])' % F,
                       "Bps")
        self.save(d)
        self.assertAccepted()

    def test_missing_rules_file_is_an_error(self):
        self.assertRejected("recording rules:", "absent.yml",
                            extra=("--rules", os.path.join(self.tmp, "absent.yml")))

    def test_rules_file_in_flow_style(self):
        out = self.assertAccepted(extra=("--rules", self.write_recording_rules()))
        self.assertIn("recording rules: 9 from", out)

    def test_provisioning_in_flow_style(self):
        for name in ("dashboards.yaml", "datasources.yaml"):
            p = os.path.join(self.dir, "provisioning", name)
            with open(p) as f:
                doc = yaml.safe_load(f)
            with open(p, "w") as f:
                json.dump(doc, f)
        self.assertAccepted()


class RejectsBrokenDashboards(Fixture):
    def test_missing_unit(self):
        d = self.load()
        p, _ = self.first_panel(d, "hostiso_vcpu_delay_seconds_total")
        del p["fieldConfig"]["defaults"]["unit"]
        self.save(d)
        self.assertRejected("fieldConfig.defaults.unit is not set", p["title"])

    def test_missing_unit_in_collapsed_row(self):
        d = self.load()
        rows = [p for p in d["panels"] if p["type"] == "row" and p.get("collapsed")]
        self.assertTrue(rows and rows[0]["panels"], "fixture has no collapsed row")
        del rows[0]["panels"][0]["fieldConfig"]["defaults"]["unit"]
        self.save(d)
        self.assertRejected("fieldConfig.defaults.unit is not set")

    def test_raw_counter(self):
        d = self.load()
        self.add_panel(d, "sum(hostiso_intrusion_seconds_total{%s})" % F)
        self.save(d)
        self.assertRejected("counter hostiso_intrusion_seconds_total used outside rate()")

    def test_counter_in_max_over_time(self):
        d = self.load()
        self.add_panel(d, "max_over_time(hostiso_violations_total{%s}[$__rate_interval])" % F)
        self.save(d)
        self.assertRejected("counter hostiso_violations_total used outside rate()")

    def test_histogram_quantile_of_bucket_rates(self):
        d = self.load()
        self.add_panel(d, "histogram_quantile(0.99, sum by (domain, le) (rate("
                          "hostiso_domain_runqueue_latency_seconds_bucket{%s}[$__rate_interval])))"
                       % F, "s")
        self.save(d)
        self.assertAccepted()

    def test_histogram_bucket_outside_rate(self):
        d = self.load()
        self.add_panel(d, "sum(hostiso_domain_runqueue_latency_seconds_bucket{%s})" % F)
        self.save(d)
        self.assertRejected("counter hostiso_domain_runqueue_latency_seconds_bucket used "
                            "outside rate()")

    def test_bare_histogram_name_is_not_a_series(self):
        d = self.load()
        self.add_panel(d, "hostiso_domain_runqueue_latency_seconds{%s}" % F, "s")
        self.save(d)
        self.assertRejected("unknown metric hostiso_domain_runqueue_latency_seconds ")

    def test_rate_of_a_gauge(self):
        d = self.load()
        self.add_panel(d, "rate(hostiso_violating_subjects{%s}[$__rate_interval])" % F)
        self.save(d)
        self.assertRejected("rate() applied to something that is not a counter")

    def test_hard_coded_window(self):
        d = self.load()
        _, t = self.first_panel(d, "hostiso_vcpu_delay_seconds_total")
        t["expr"] = t["expr"].replace("[$__rate_interval]", "[5m]")
        self.assertIn("[5m]", t["expr"])
        self.save(d)
        self.assertRejected("range [5m] on hostiso_vcpu_delay_seconds_total")

    def test_short_deriv_window(self):
        d = self.load()
        self.add_panel(d, 'deriv(hostiso_disk_free_bytes{%s}[10m])' % F, "Bps")
        self.save(d)
        self.assertRejected("range [10m] on hostiso_disk_free_bytes")

    def test_subquery_window(self):
        d = self.load()
        self.add_panel(d, "max_over_time(sum(rate(hostiso_cpu_seconds_total{%s}"
                          "[$__rate_interval]))[1h:])" % F)
        self.save(d)
        self.assertRejected("subquery window [1h]")

    def test_unknown_metric(self):
        d = self.load()
        _, t = self.first_panel(d, "hostiso_memory_host_used_bytes")
        t["expr"] = t["expr"].replace("hostiso_memory_host_used_bytes",
                                      "hostiso_memory_used_by_host_bytes")
        self.save(d)
        self.assertRejected("unknown metric hostiso_memory_used_by_host_bytes")

    def test_unknown_recording_rule(self):
        d = self.load("hostiso-fleet-overview.json")
        _, t = self.first_panel(d, "instance:hostiso_cpu_steal:ratio_rate5m")
        t["expr"] = t["expr"].replace("instance:hostiso_cpu_steal:ratio_rate5m",
                                      "instance:hostiso_cpu_steal:ratio_rate1m")
        self.save(d, "hostiso-fleet-overview.json")
        self.assertRejected("unknown recording rule instance:hostiso_cpu_steal:ratio_rate1m")

    def test_unknown_non_hostiso_metric(self):
        d = self.load()
        self.add_panel(d, "node_load1{%s}" % F)
        self.save(d)
        self.assertRejected("unknown metric node_load1")

    def test_missing_datasource_variable(self):
        d = self.load("hostiso-capacity-planning.json")
        d["templating"]["list"] = [v for v in d["templating"]["list"]
                                   if v["name"] != "datasource"]
        self.save(d, "hostiso-capacity-planning.json")
        self.assertRejected("template variable `datasource`")

    def test_missing_job_variable(self):
        d = self.load("hostiso-capacity-planning.json")
        d["templating"]["list"] = [v for v in d["templating"]["list"] if v["name"] != "job"]
        self.save(d, "hostiso-capacity-planning.json")
        self.assertRejected("template variable `job`")

    def test_missing_cluster_variable(self):
        d = self.load("hostiso-fleet-overview.json")
        d["templating"]["list"] = [v for v in d["templating"]["list"] if v["name"] != "cluster"]
        self.save(d, "hostiso-fleet-overview.json")
        self.assertRejected("template variable `cluster`")

    def test_missing_cluster_filter(self):
        d = self.load()
        _, t = self.first_panel(d, "hostiso_census_tasks")
        t["expr"] = 'hostiso_census_tasks{job=~"$job",instance=~"$instance"}'
        self.save(d)
        self.assertRejected('selector hostiso_census_tasks lacks LABEL=~"$cluster"')

    def test_other_cluster_label_accepted(self):
        # the mixin's clusterLabel may be any label name, e.g. region
        known = {"hostiso_census_tasks"}
        e = 'hostiso_census_tasks{region=~"$cluster",job=~"$job",instance=~"$instance"}'
        self.assertEqual(check_dashboards.check_expr(e, known, set(), "t"), [])

    def test_missing_instance_filter(self):
        d = self.load()
        _, t = self.first_panel(d, "hostiso_census_tasks")
        t["expr"] = 'hostiso_census_tasks{job=~"$job"}'
        self.save(d)
        self.assertRejected('selector hostiso_census_tasks lacks instance=~"$instance"')

    def test_export_with_inputs(self):
        d = self.load()
        d["__inputs"] = [{"name": "DS_PROMETHEUS", "type": "datasource",
                          "pluginId": "prometheus"}]
        self.save(d)
        self.assertRejected("__inputs present")

    def test_export_placeholder(self):
        d = self.load()
        p, t = self.first_panel(d, "hostiso_census_tasks")
        p["datasource"] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        self.save(d)
        self.assertRejected("export placeholder ${DS_PROMETHEUS}")

    def test_hard_coded_panel_datasource(self):
        d = self.load()
        p, _ = self.first_panel(d, "hostiso_vcpu_cpu")
        p["datasource"] = {"type": "prometheus", "uid": "prometheus"}
        self.save(d)
        self.assertRejected("datasource must be", p["title"])

    def test_hard_coded_target_datasource_in_collapsed_row(self):
        d = self.load()
        rows = [p for p in d["panels"] if p["type"] == "row" and p.get("collapsed")]
        nested = rows[0]["panels"][0]
        nested["targets"][0]["datasource"] = "Prometheus"
        self.save(d)
        self.assertRejected("datasource must be", nested["title"])

    def test_syntax_error(self):
        d = self.load()
        _, t = self.first_panel(d, "hostiso_vcpu_delay_seconds_total")
        t["expr"] = t["expr"][:-1]  # drop the closing parenthesis
        self.save(d)
        self.assertRejected("PromQL does not parse", extra=("--no-promtool",))

    @unittest.skipUnless(shutil.which("promtool"), "promtool not installed")
    def test_promtool_catches_type_error(self):
        # Parses with the built-in parser (it does not type-check), promtool must
        # reject it: sum over a string.
        d = self.load()
        self.add_panel(d, 'sum("x")')
        self.save(d)
        self.assertRejected("promtool rejects the query")

    def test_angular_panel(self):
        d = self.load()
        p, _ = self.first_panel(d, "hostiso_census_tasks")
        p["type"] = "graph"
        self.save(d)
        self.assertRejected("panel type graph is AngularJS")

    def test_overlapping_panels(self):
        d = self.load()
        p, _ = self.first_panel(d, "hostiso_vcpu_delay_seconds_total")
        q, _ = self.first_panel(d, "hostiso_cpu_vcpu_delay_seconds_total")
        q["gridPos"] = dict(p["gridPos"])
        self.save(d)
        self.assertRejected("overlaps")

    def test_transformation_refers_to_missing_target(self):
        d = self.load()
        p, _ = self.first_panel(d, "hostiso_cpu_nohz_full")
        p["targets"] = [t for t in p["targets"] if t["refId"] != "C"]
        self.save(d)
        self.assertRejected('"Value #C" but no target has refId C')

    def test_duplicate_uid(self):
        d = self.load("hostiso-capacity-planning.json")
        d["uid"] = self.load("hostiso-fleet-overview.json")["uid"]
        self.save(d, "hostiso-capacity-planning.json")
        self.assertRejected("also used by")

    def test_invalid_json(self):
        with open(self.path(), "a") as f:
            f.write("}")
        self.assertRejected("not valid JSON")

    def test_old_schema_version(self):
        d = self.load()
        d["schemaVersion"] = 27
        self.save(d)
        self.assertRejected("schemaVersion 27")

    def test_provisioning_wrong_folder(self):
        p = os.path.join(self.dir, "provisioning", "dashboards.yaml")
        with open(p) as f:
            text = f.read()
        self.assertIn("folder: hostiso\n", text)
        with open(p, "w") as f:
            f.write(text.replace("folder: hostiso\n", "folder: General\n"))
        self.assertRejected('folder must be "hostiso"')

    def test_provisioning_missing_datasources(self):
        os.remove(os.path.join(self.dir, "provisioning", "datasources.yaml"))
        self.assertRejected("datasources.yaml missing")

    def test_compose_must_mount_dashboards(self):
        # A compose file next to dashboards/ that provisions Grafana without the
        # dashboards mount.
        compose = os.path.join(self.tmp, "docker-compose.yml")
        with open(compose, "w") as f:
            f.write("services:\n  grafana:\n    volumes:\n"
                    "      - ./dashboards/provisioning/dashboards.yaml:"
                    "/etc/grafana/provisioning/dashboards/hostiso.yaml:ro\n")
        problems, _ = check_dashboards.check_provisioning(self.dir, self.tmp)
        self.assertTrue(any("not the dashboards directory" in p for p in problems), problems)
        with open(compose, "a") as f:
            f.write("      - ./dashboards:/var/lib/grafana/dashboards/hostiso:ro\n")
        problems, notes = check_dashboards.check_provisioning(self.dir, self.tmp)
        self.assertEqual(problems, [])
        self.assertTrue(notes)

    def test_recording_rule_missing_from_rules_file(self):
        rules = self.write_recording_rules(drop="instance:hostiso_cpu_steal:ratio_rate5m")
        self.assertRejected("unknown recording rule instance:hostiso_cpu_steal:ratio_rate5m",
                            extra=("--rules", rules))

    def test_rules_file_not_yaml(self):
        rules = os.path.join(self.tmp, "broken.yml")
        with open(rules, "w") as f:
            f.write("groups:\n  - name: [\n")
        self.assertRejected("recording rules:", "not valid YAML", extra=("--rules", rules))

    def test_provisioning_relative_path(self):
        p = os.path.join(self.dir, "provisioning", "dashboards.yaml")
        with open(p) as f:
            doc = yaml.safe_load(f)
        doc["providers"][0]["options"]["path"] = "dashboards"
        with open(p, "w") as f:
            yaml.safe_dump(doc, f)
        self.assertRejected("options.path must be an absolute directory")

    def test_provisioning_datasource_uid(self):
        p = os.path.join(self.dir, "provisioning", "datasources.yaml")
        with open(p) as f:
            doc = yaml.safe_load(f)
        doc["datasources"][0]["uid"] = "prom"
        with open(p, "w") as f:
            yaml.safe_dump(doc, f)
        self.assertRejected("uid must be prometheus")

    def test_compose_long_syntax_same_service(self):
        # The dashboards mounted in another service than the provider file do
        # not count; the long volume syntax does.
        compose = os.path.join(self.tmp, "compose.yaml")
        provider = {"type": "bind", "source": "./dashboards/provisioning/dashboards.yaml",
                    "target": "/etc/grafana/provisioning/dashboards/hostiso.yaml"}
        mount = {"type": "bind", "source": "./dashboards/",
                 "target": "/var/lib/grafana/dashboards/hostiso/"}
        services = {"grafana": {"volumes": [provider]}, "other": {"volumes": [mount]}}
        with open(compose, "w") as f:
            yaml.safe_dump({"services": services}, f)
        problems, _ = check_dashboards.check_provisioning(self.dir, self.tmp)
        self.assertTrue(any("(service grafana)" in p for p in problems), problems)
        services["grafana"]["volumes"].append(mount)
        with open(compose, "w") as f:
            yaml.safe_dump({"services": services}, f)
        problems, notes = check_dashboards.check_provisioning(self.dir, self.tmp)
        self.assertEqual(problems, [])
        self.assertTrue(notes)

    def test_missing_spec(self):
        self.assertRejected("metric contract not found",
                            extra=("--spec", os.path.join(self.tmp, "nope.md")))

    def test_empty_directory(self):
        for f in os.listdir(self.dir):
            if f.endswith(".json"):
                os.remove(os.path.join(self.dir, f))
        self.assertRejected("no dashboards")


class Parser(unittest.TestCase):
    """Direct tests of the built-in PromQL parser."""

    def parses(self, expr):
        check_dashboards.parse_promql(expr)

    def test_valid(self):
        for e in ['sum by (a) (rate(x_total{a="b"}[$__rate_interval]))',
                  'sum(rate(x_total[5m])) without (cpu)',
                  'a / on (job, instance) group_left () b',
                  'a > bool 0 and on (job) group_right (x) b',
                  '-a ^ 2', '(a) offset 5m', 'topk($n, a)',
                  'predict_linear(a[6h], 7 * 86400)', 'a[1h:5m]', 'a @ start()',
                  'label_join(a, "x", " / ", "cpu", "role")', '{__name__="a"}',
                  'count_values("v", a)', 'a unless b or c']:
            with self.subTest(e=e):
                self.parses(e)

    def test_invalid(self):
        for e in ['sum(a', 'a +', 'rate(a[5m]', 'a{b="c"', 'a{b=c}', 'sum by (a) (b) by (c)',
                  'a[[[x]]]', '{}', '(a]', 'a ! b']:
            with self.subTest(e=e):
                with self.assertRaises(check_dashboards.PromQLError):
                    self.parses(e)

    def test_windows(self):
        known = {"hostiso_disk_free_bytes", "hostiso_cpu_seconds_total"}
        rules = {"instance:hostiso_disk_free:ratio"}
        ok = ['deriv(hostiso_disk_free_bytes{%s}[6h])' % F,
              'predict_linear(hostiso_disk_free_bytes{%s}[1d], 3600)' % F,
              'min_over_time(instance:hostiso_disk_free:ratio{%s}[7d])' % F,
              'rate(hostiso_cpu_seconds_total{%s}[${__rate_interval}])' % F]
        bad = ['deriv(hostiso_disk_free_bytes{%s}[59m])' % F,
               'min_over_time(hostiso_disk_free_bytes{%s}[1h])' % F,
               'rate(hostiso_cpu_seconds_total{%s}[$__interval])' % F,
               'increase(hostiso_cpu_seconds_total{%s}[1h])' % F]
        for e in ok:
            with self.subTest(e=e):
                self.assertEqual(check_dashboards.check_expr(e, known, rules, "t"), [])
        for e in bad:
            with self.subTest(e=e):
                self.assertTrue(check_dashboards.check_expr(e, known, rules, "t"))

    def test_substitute_variables(self):
        self.assertEqual(
            check_dashboards.substitute_variables(
                'rate(a{job=~"$job",instance=~"${instance}"}[$__rate_interval])'),
            'rate(a{job=~".*",instance=~".*"}[1m])')
        self.assertEqual(check_dashboards.substitute_variables('a{cluster=~"$cluster"}'),
                         'a{cluster=~".*"}')
        with self.assertRaises(KeyError):
            check_dashboards.substitute_variables("a[$nope]")


if __name__ == "__main__":
    unittest.main(verbosity=2)
