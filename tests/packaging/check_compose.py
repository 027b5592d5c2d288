#!/usr/bin/env python3
"""Static checks of the container demo and of the systemd unit.

  check_compose.py [--repo DIR] compose   docker/compose.yaml + docker/prometheus.yml
  check_compose.py [--repo DIR] unit      systemd-analyze verify of the unit
  check_compose.py [--repo DIR]           both

compose: the four services exist; every relative bind-mount source exists in
the repository; named volumes are declared; every published port is bound to
127.0.0.1; the exporter runs with pid: host, read_only, cap_drop ALL, a
non-root user, and mounts the host's /proc and /sys read-only at the paths its
--path.procfs/--path.sysfs flags (compose command or the Dockerfile's CMD)
name; Prometheus' config file is the mounted docker/prometheus.yml, each of
its rule_files is a mounted file, it scrapes the exporter service and sends to
the alertmanager service; Alertmanager and Grafana get their files. Every
bind mount of the exporter is read-only; --path.rootfs, when given, has the
host's / mounted there.
When promtool is installed, `promtool check config` runs on prometheus.yml
with the rules path pointed at the repository's file (checks the rules too).

unit: `systemd-analyze verify` of packaging/hostiso-exporter.service, with
ExecStart's binary replaced by /usr/bin/env (the exporter is not installed on
the build host; tests/packaging/test_deb_package.sh verifies the installed
unit as is). Any message from systemd-analyze is a failure: it exits 0 on
unknown keys and out-of-range values.

Needs python3-yaml (Debian package) for `compose`. Exit 77 (skip) when
python3-yaml or systemd-analyze is missing.
"""
import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml  # Debian: python3-yaml
except ImportError:  # check_compose() reports the skip
    yaml = None

SKIP = 77
errors = []


def err(msg):
    errors.append(msg)


def parse_volume(spec):
    """Returns (source, target, read_only) of a short or long volume spec."""
    if isinstance(spec, dict):
        return (spec.get("source"), spec.get("target"),
                bool(spec.get("read_only", False)), spec.get("type"))
    parts = str(spec).split(":")
    if len(parts) == 1:
        return (None, parts[0], False, "volume")
    src, tgt = parts[0], parts[1]
    opts = parts[2].split(",") if len(parts) > 2 else []
    kind = "bind" if src.startswith((".", "/", "~")) else "volume"
    return (src, tgt, "ro" in opts, kind)


def dockerfile_default_cmd(path):
    """ENTRYPOINT + CMD (exec form) of the last stage of a Dockerfile."""
    text = open(path, encoding="utf-8").read()
    # Join continuation lines; drop comments.
    lines, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if s.startswith("#") and not cur:
            continue
        if s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        if cur:
            lines.append(cur)
        cur = ""
    entry, cmd = [], []
    for line in lines:
        m = re.match(r"(?i)^(FROM|ENTRYPOINT|CMD)\s+(.*)$", line)
        if not m:
            continue
        kw, rest = m.group(1).upper(), m.group(2)
        if kw == "FROM":
            entry, cmd = [], []
            continue
        try:
            val = json.loads(rest)
        except json.JSONDecodeError:
            err(f"{path}: {kw} is not in exec (JSON) form: {rest}")
            continue
        if kw == "ENTRYPOINT":
            entry = val
        else:
            cmd = val
    return entry, cmd


def flag_value(args, name):
    for i, a in enumerate(args):
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
        if a == name and i + 1 < len(args):
            return args[i + 1]
    return None


def as_list(v):
    if v is None:
        return []
    if isinstance(v, str):
        return v.split()
    return [str(x) for x in v]


def service_mounts(services, declared_volumes, ddir):
    """service -> {target: (abs source or None, ro)}; checks bind sources, named
    volumes, published ports and network_mode of every service on the way."""
    mounts = {}
    for sname, svc in services.items():
        mounts[sname] = {}
        for spec in svc.get("volumes") or []:
            src, tgt, ro, kind = parse_volume(spec)
            if kind == "bind" and src is not None:
                if src.startswith("/"):
                    host = src  # a path of the host it runs on, not of the repo
                else:
                    host = os.path.normpath(os.path.join(ddir, src))
                    if not os.path.exists(host):
                        err(f"{sname}: bind source {src} ({host}) does not exist")
                mounts[sname][tgt] = (host, ro)
            else:
                if src and src not in declared_volumes:
                    err(f"{sname}: named volume {src} not declared under volumes:")
                mounts[sname][tgt] = (None, ro)
        for p in svc.get("ports") or []:
            ps = str(p.get("host_ip", "") + ":" if isinstance(p, dict) else p)
            if not ps.startswith("127.0.0.1:"):
                err(f"{sname}: port {p} is not bound to 127.0.0.1")
        if svc.get("network_mode") not in (None, "host"):
            err(f"{sname}: unexpected network_mode {svc.get('network_mode')}")
    return mounts


def exporter_command_line(exp, ddir):
    """The exporter's arguments: compose entrypoint/command over the Dockerfile's."""
    build = exp.get("build") or {}
    if isinstance(build, str):
        build = {"context": build}
    ctx = os.path.normpath(os.path.join(ddir, build.get("context", ".")))
    dockerfile = os.path.join(ctx, build.get("dockerfile", "Dockerfile"))
    if not os.path.isfile(dockerfile):
        err(f"exporter: Dockerfile {dockerfile} missing")
        return []
    entry, cmd = dockerfile_default_cmd(dockerfile)
    if exp.get("entrypoint") is not None:
        entry = as_list(exp["entrypoint"])
    if exp.get("command") is not None:
        cmd = as_list(exp["command"])
    return entry + cmd


def check_exporter_confinement(exp):
    """pid: host, read_only, cap_drop ALL, not privileged, not root."""
    if exp.get("pid") != "host":
        err("exporter: pid: host missing (sched_getaffinity needs host PIDs)")
    if exp.get("read_only") is not True:
        err("exporter: read_only: true missing")
    if "ALL" not in [str(c).upper() for c in exp.get("cap_drop") or []]:
        err("exporter: cap_drop: [ALL] missing")
    if exp.get("privileged"):
        err("exporter: must not be privileged")
    user = str(exp.get("user", ""))
    if not user or user.split(":")[0] in ("0", "root"):
        err(f"exporter: runs as root (user: {user!r})")


def check_exporter_mounts(mounts, args):
    """Host /proc, /sys (and / for --path.rootfs) mounted read-only where the flags say."""
    for host_path, flag, default in (("/proc", "--path.procfs", "/proc"),
                                     ("/sys", "--path.sysfs", "/sys")):
        tgt = [t for t, (s, _) in mounts.items() if s == host_path]
        if not tgt:
            err(f"exporter: host {host_path} is not mounted")
            continue
        for t in tgt:
            if not mounts[t][1]:
                err(f"exporter: {host_path} mounted at {t} is not read-only")
        want = flag_value(args, flag) or default
        if want not in tgt:
            err(f"exporter: {flag}={want} but host {host_path} is mounted at {', '.join(tgt)}")
    rootfs = flag_value(args, "--path.rootfs")
    if rootfs and rootfs != "/":
        src = mounts.get(rootfs, (None, False))
        if src[0] != "/":
            err(f"exporter: --path.rootfs={rootfs} but the host's / is not mounted there")
        elif not src[1]:
            err(f"exporter: host / mounted at {rootfs} is not read-only")
    for t, (s, ro) in mounts.items():
        if s and not ro:
            err(f"exporter: bind mount {s}:{t} is not read-only")


def mounted_rule_files(pcfg, cfg_in, mounts):
    """[(rule file as prometheus.yml names it, its source in the repository)]."""
    rule_files = pcfg.get("rule_files") or []
    if not rule_files:
        err("prometheus.yml: no rule_files")
    rules_sources = []
    for rf in rule_files:
        rf_abs = rf if rf.startswith("/") else os.path.join(os.path.dirname(cfg_in), rf)
        hits = [(t, s) for t, (s, _) in mounts.items()
                if s and (fnmatch.fnmatch(t, rf_abs)
                          or rf_abs.startswith(t.rstrip("/") + "/"))]
        if not hits:
            err(f"prometheus.yml: rule file {rf} is not mounted into the container")
        for t, s in hits:
            src = s if t == rf_abs else os.path.join(s, os.path.relpath(rf_abs, t))
            rules_sources.append((rf, src))
    if not any(os.path.basename(s) == "hostiso.rules.yml" for _, s in rules_sources):
        err("prometheus: alerts/hostiso.rules.yml is not among the mounted rule files")
    return rules_sources


def check_prometheus_targets(pcfg):
    """A hostiso job scraping the exporter service; alerts sent to alertmanager."""
    targets = [t for sc in pcfg.get("scrape_configs") or []
               for st in sc.get("static_configs") or [] for t in st.get("targets") or []]
    jobs = {sc.get("job_name"): sc for sc in pcfg.get("scrape_configs") or []}
    if "hostiso" not in jobs:
        err("prometheus.yml: no scrape job named hostiso (the alert rules expect it)")
    if not any(t.split(":")[0] == "exporter" for t in targets):
        err("prometheus.yml: the exporter service is not a scrape target")
    am = [t for a in (pcfg.get("alerting") or {}).get("alertmanagers") or []
          for st in a.get("static_configs") or [] for t in st.get("targets") or []]
    if not any(t.split(":")[0] == "alertmanager" for t in am):
        err("prometheus.yml: alerts are not sent to the alertmanager service")


def promtool_check_config(pcfg, rules_sources):
    """`promtool check config` on prometheus.yml with the rules at their repository paths."""
    promtool = shutil.which("promtool")
    if promtool and rules_sources and not errors:
        with tempfile.TemporaryDirectory() as tmp:
            local = dict(pcfg)
            local["rule_files"] = [src for _, src in rules_sources]
            tcfg = os.path.join(tmp, "prometheus.yml")
            with open(tcfg, "w", encoding="utf-8") as f:
                yaml.safe_dump(local, f)
            r = subprocess.run([promtool, "check", "config", tcfg],
                               capture_output=True, text=True)
            if r.returncode != 0:
                err("promtool check config failed:\n" + r.stdout + r.stderr)
            else:
                print("promtool check config: OK (config + rules)")
    elif not promtool:
        print("note: promtool not installed, prometheus.yml not checked by promtool")


def check_prometheus(prom, mounts, ddir):
    """False when its config is not mounted (nothing further can be checked)."""
    pargs = as_list(prom.get("command"))
    cfg_in = flag_value(pargs, "--config.file") or "/etc/prometheus/prometheus.yml"
    cfg_src = mounts.get(cfg_in, (None, False))[0]
    if cfg_src is None:
        err(f"prometheus: config {cfg_in} is not bind-mounted")
        return False
    if os.path.normpath(cfg_src) != os.path.join(ddir, "prometheus.yml"):
        err(f"prometheus: config comes from {cfg_src}, expected docker/prometheus.yml")
    with open(cfg_src, encoding="utf-8") as f:
        pcfg = yaml.safe_load(f)
    rules_sources = mounted_rule_files(pcfg, cfg_in, mounts)
    check_prometheus_targets(pcfg)
    promtool_check_config(pcfg, rules_sources)
    return True


def check_alertmanager(amsvc, mounts):
    am_cfg = flag_value(as_list(amsvc.get("command")), "--config.file") \
        or "/etc/alertmanager/alertmanager.yml"
    src = mounts.get(am_cfg, (None, False))[0]
    if not src or os.path.basename(src) != "alertmanager.example.yml":
        err(f"alertmanager: {am_cfg} is not alerts/alertmanager.example.yml")


def check_grafana(g, repo):
    """dashboards/ and its provisioning files mounted; the provider path is a mount."""
    if not any(s and os.path.normpath(s) == os.path.join(repo, "dashboards")
               for s, _ in g.values()):
        err("grafana: dashboards/ is not mounted")
    for sub in ("dashboards", "datasources"):
        if not any(t.startswith(f"/etc/grafana/provisioning/{sub}/") and s and
                   os.path.dirname(s) == os.path.join(repo, "dashboards", "provisioning")
                   for t, (s, _) in g.items()):
            err(f"grafana: no provisioning file from dashboards/provisioning/ "
                f"under /etc/grafana/provisioning/{sub}/")
    # The dashboard provider must point where the dashboards are mounted.
    for t, (s, _) in g.items():
        if t.startswith("/etc/grafana/provisioning/dashboards/") and s and os.path.isfile(s):
            with open(s, encoding="utf-8") as f:
                prov = yaml.safe_load(f) or {}
            for p in prov.get("providers") or []:
                path = (p.get("options") or {}).get("path")
                if path and path not in g:
                    err(f"grafana: provider path {path} is not a mount target")


def check_compose(repo):
    if yaml is None:
        print("SKIP: python3-yaml is not installed (apt-get install python3-yaml)")
        return SKIP

    ddir = os.path.join(repo, "docker")
    cpath = os.path.join(ddir, "compose.yaml")
    with open(cpath, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    services = compose.get("services") or {}
    declared_volumes = set((compose.get("volumes") or {}).keys())

    for name in ("exporter", "prometheus", "alertmanager", "grafana"):
        if name not in services:
            err(f"compose.yaml: service {name} missing")
    if errors:
        return report()

    mounts = service_mounts(services, declared_volumes, ddir)
    args = exporter_command_line(services["exporter"], ddir)
    check_exporter_confinement(services["exporter"])
    check_exporter_mounts(mounts["exporter"], args)
    if not check_prometheus(services["prometheus"], mounts["prometheus"], ddir):
        return report()
    check_alertmanager(services["alertmanager"], mounts["alertmanager"])
    check_grafana(mounts["grafana"], repo)
    return report()


def report():
    if errors:
        for e in errors:
            print("FAIL:", e)
        return 1
    print("compose: OK")
    return 0


def check_unit(repo):
    sa = shutil.which("systemd-analyze")
    if not sa:
        print("SKIP: systemd-analyze not installed")
        return SKIP
    unit = os.path.join(repo, "packaging", "hostiso-exporter.service")
    text = open(unit, encoding="utf-8").read()
    if not re.search(r"^ExecStart=/usr/bin/hostiso_exporter ", text, re.M):
        print("FAIL: ExecStart is not /usr/bin/hostiso_exporter ...")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "hostiso-exporter.service")
        with open(copy, "w", encoding="utf-8") as f:
            f.write(re.sub(r"^ExecStart=/usr/bin/hostiso_exporter",
                           "ExecStart=/usr/bin/env", text, flags=re.M))
        r = subprocess.run([sa, "verify", copy], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    if r.returncode != 0 or out:
        print("FAIL: systemd-analyze verify (rc %d):\n%s" % (r.returncode, out))
        return 1
    print("unit: systemd-analyze verify OK")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=os.path.normpath(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
    ap.add_argument("what", nargs="?", choices=("compose", "unit", "all"), default="all")
    a = ap.parse_args()
    repo = os.path.abspath(a.repo)
    rcs = []
    if a.what in ("compose", "all"):
        rcs.append(check_compose(repo))
    if a.what in ("unit", "all"):
        rcs.append(check_unit(repo))
    if 1 in rcs:
        return 1
    if SKIP in rcs:
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
