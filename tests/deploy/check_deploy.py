#!/usr/bin/env python3
"""Static checks of the deployment manifests in deploy/.

- yamllint and python3-yaml on every YAML file (Kolla's Jinja snippet after
  rendering it the way kolla-ansible's merge_yaml does);
- deploy/openstack-helm/hostiso-exporter.yaml: a DaemonSet with hostPID, the
  host's /proc, /sys and / read-only, nova.conf from the nova-etc Secret,
  libvirt's run directory, no privilege, no capability, non-root, Burstable;
  the exporter's flags point at those mounts;
- deploy/kolla/prometheus.yml.d/50-hostiso.yml rendered for two compute hosts
  and merged into a Kolla-like prometheus.yml (lists extended, as Kolla's
  merge_yaml does), checked with `promtool check config` together with the
  rules under the name Kolla loads (hostiso.rules);
- deploy/kolla/run-hostiso-exporter.sh --print: Kolla's mounts (the
  nova_compute volume where instances_path resolves, the nova.conf copy,
  libvirt's run directory), --pid=host, --cpuset-cpus; bad arguments exit 2;
- the two systemd units with `systemd-analyze verify`.
Exit 0 pass, 1 fail, 77 a tool is missing (yamllint, promtool, jinja2, yaml).
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from exporter_harness import SKIP, Checker  # noqa: E402

try:
    import jinja2
    import yaml
except ImportError as e:
    print("SKIP: %s (Debian packages python3-yaml, python3-jinja2; "
          "scripts/install-deps.sh test)" % e)
    sys.exit(SKIP)

DEPLOY = os.path.join(REPO, "deploy")
YAMLLINT_CONFIG = ("{extends: default, rules: {line-length: {max: 120}, "
                   "document-start: disable, truthy: {check-keys: false}}}")
COMPUTE = {"cn-01": "10.0.0.11", "cn-02": "10.0.0.12"}


def yamllint(paths):
    r = subprocess.run(["yamllint", "-f", "parsable", "-d", YAMLLINT_CONFIG] + paths,
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def check_daemonset(c, path):
    with open(path) as f:
        ds = yaml.safe_load(f)
    c.check(ds.get("kind") == "DaemonSet", "openstack-helm: kind DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    c.check(pod.get("hostPID") is True, "openstack-helm: hostPID")
    sec = pod.get("securityContext", {})
    c.check(sec.get("runAsNonRoot") is True and sec.get("runAsUser") == 9933,
            "openstack-helm: runs as uid 9933, non-root")
    volumes = {v["name"]: v for v in pod["volumes"]}
    host_paths = {v["hostPath"]["path"]: n for n, v in volumes.items() if "hostPath" in v}
    for p in ("/proc", "/sys", "/", "/run/libvirt"):
        c.check(p in host_paths, "openstack-helm: hostPath %s" % p)
    secrets = [v["secret"] for v in volumes.values() if "secret" in v]
    c.check(any(s.get("secretName") == "nova-etc"
                and any(i.get("key") == "nova.conf" for i in s.get("items", []))
                for s in secrets), "openstack-helm: nova.conf from Secret nova-etc")
    (ctr,) = pod["containers"]
    csec = ctr.get("securityContext", {})
    c.check(csec.get("privileged") is not True and csec.get("allowPrivilegeEscalation") is False
            and csec.get("readOnlyRootFilesystem") is True
            and csec.get("capabilities", {}).get("drop") == ["ALL"]
            and not csec.get("capabilities", {}).get("add"),
            "openstack-helm: unprivileged, no capabilities, read-only root")
    mounts = {m["mountPath"]: m for m in ctr["volumeMounts"]}
    for m in mounts.values():
        c.check(m.get("readOnly") is True, "openstack-helm: mount %s read-only" % m["mountPath"])
    want = {"/host/proc": "/proc", "/host/sys": "/sys", "/host/root": "/",
            "/run/libvirt": "/run/libvirt"}
    for target, host in want.items():
        m = mounts.get(target)
        c.check(m is not None and host_paths.get(host) == m["name"],
                "openstack-helm: host %s mounted at %s" % (host, target))
    c.check(mounts.get("/etc/nova", {}).get("name") in volumes
            and "secret" in volumes[mounts["/etc/nova"]["name"]],
            "openstack-helm: the Secret mounted at /etc/nova")
    args = ctr.get("args", [])
    for flag in ("--path.procfs=/host/proc", "--path.sysfs=/host/sys",
                 "--path.rootfs=/host/root", "--nova.config=/etc/nova/nova.conf",
                 "--libvirt.uri=qemu:///system?socket=/run/libvirt/libvirt-sock-ro"):
        c.check(flag in args, "openstack-helm: flag %s" % flag)
    res = ctr.get("resources", {})
    guaranteed = res.get("requests") == res.get("limits")
    c.check(not guaranteed, "openstack-helm: Burstable (no exclusive cores from the CPU manager)")


def kolla_filters(env):
    def kolla_address(network, host):
        return COMPUTE[host]

    def put_address_in_context(addr, context):
        return "[%s]" % addr if ":" in addr and context == "url" else addr
    env.filters["kolla_address"] = kolla_address
    env.filters["put_address_in_context"] = put_address_in_context


def merge(conf, update):
    """kolla-ansible's merge_yaml with extend_lists: dicts merged, lists extended."""
    for k, v in update.items():
        if isinstance(v, dict):
            conf[k] = merge(conf.get(k, {}), v)
        elif k in conf and isinstance(conf[k], list):
            conf[k].extend(v)
        else:
            conf[k] = v
    return conf


def check_kolla_prometheus(c, tmp):
    src = os.path.join(DEPLOY, "kolla", "prometheus.yml.d", "50-hostiso.yml")
    env = jinja2.Environment(lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    kolla_filters(env)
    with open(src) as f:
        text = env.from_string(f.read()).render(groups={"compute": sorted(COMPUTE)})
    rendered = os.path.join(tmp, "50-hostiso.yml")
    with open(rendered, "w") as f:
        f.write(text)
    ok, out = yamllint([rendered])
    c.check(ok, "kolla: rendered snippet passes yamllint\n" + out)
    base = {
        "global": {"scrape_interval": "60s", "external_labels": {"monitor": "kolla"}},
        "rule_files": [os.path.join(tmp, "hostiso.rules")],
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": ["10.0.0.1:9091"]}]},
            {"job_name": "node", "static_configs": [
                {"targets": ["%s:9100" % ip for ip in COMPUTE.values()]}]},
        ],
    }
    merged = merge(base, yaml.safe_load(text))
    jobs = {j["job_name"]: j for j in merged["scrape_configs"]}
    c.check(set(jobs) == {"prometheus", "node", "hostiso"},
            "kolla: the snippet adds job hostiso and keeps Kolla's jobs (%s)" % sorted(jobs))
    targets = [t for sc in jobs.get("hostiso", {}).get("static_configs", [])
               for t in sc["targets"]]
    c.check(targets == ["%s:9933" % COMPUTE[h] for h in sorted(COMPUTE)],
            "kolla: one target per compute host on port 9933 (%s)" % targets)
    shutil.copy(os.path.join(REPO, "alerts", "hostiso.rules.yml"),
                os.path.join(tmp, "hostiso.rules"))
    conf = os.path.join(tmp, "prometheus.yml")
    with open(conf, "w") as f:
        yaml.safe_dump(merged, f)
    r = subprocess.run(["promtool", "check", "config", conf], capture_output=True, text=True)
    c.check(r.returncode == 0, "kolla: promtool check config of the merged prometheus.yml "
            "with hostiso.rules\n" + r.stdout + r.stderr)


def check_kolla_run_script(c):
    script = os.path.join(DEPLOY, "kolla", "run-hostiso-exporter.sh")
    r = subprocess.run(["bash", script, "--host-cpus", "0-1,24-25", "--print"],
                       capture_output=True, text=True)
    c.check(r.returncode == 0, "kolla: run script --print works: " + r.stderr)
    argv = shlex.split(r.stdout)
    volumes = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-v"]
    for v in ("/proc:/host/proc:ro", "/sys:/host/sys:ro", "/:/host/root:ro,rslave",
              "nova_compute:/host/root/var/lib/nova:ro",
              "/etc/hostiso-exporter/nova:/etc/nova:ro", "/run/libvirt:/run/libvirt:ro"):
        c.check(v in volumes, "kolla: docker run mounts %s" % v)
    for a in ("--pid=host", "--read-only", "--cap-drop=ALL", "--cpuset-cpus=0-1,24-25",
              "--path.rootfs=/host/root", "--nova.config=/etc/nova/nova.conf"):
        c.check(a in argv, "kolla: docker run has %s" % a)
    c.check(not any(a.startswith("--privileged") or a.startswith("--cap-add") for a in argv),
            "kolla: no --privileged, no --cap-add")
    for bad in (["--host-cpus", "0-1;rm"], ["--print"], ["--nope"]):
        r = subprocess.run(["bash", script] + bad, capture_output=True, text=True)
        c.check(r.returncode == 2, "kolla: run script exits 2 on %s (got %d)"
                % (bad, r.returncode))


def check_units(c, skipped):
    if not shutil.which("systemd-analyze"):
        skipped.append("systemd-analyze verify (systemd not installed)")
        return
    units = [os.path.join(DEPLOY, "kolla", u)
             for u in ("hostiso-nova-conf.service", "hostiso-nova-conf.path")]
    r = subprocess.run(["systemd-analyze", "verify"] + units, capture_output=True, text=True)
    # verify also reports on units these pull in from the machine; keep ours
    ours = [ln for ln in (r.stdout + r.stderr).splitlines() if "hostiso-nova-conf" in ln]
    c.check(not ours, "kolla: systemd-analyze verify of the nova.conf units\n"
            + "\n".join(ours))


def main():
    for tool in ("yamllint", "promtool"):
        if not shutil.which(tool):
            print("SKIP: %s not found (scripts/install-deps.sh test)" % tool)
            return SKIP
    c = Checker()
    skipped = []
    plain = [os.path.join(DEPLOY, "openstack-helm", f) for f in
             ("hostiso-exporter.yaml", "prometheus-scrape.yml")]
    ok, out = yamllint(plain)
    c.check(ok, "yamllint deploy/openstack-helm\n" + out)
    check_daemonset(c, plain[0])
    with open(plain[1]) as f:
        scrape = yaml.safe_load(f)
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "p.yml")
        with open(conf, "w") as f:
            yaml.safe_dump(scrape, f)
        r = subprocess.run(["promtool", "check", "config", conf], capture_output=True, text=True)
        if "field kubernetes_sd_configs not found" in r.stdout + r.stderr:
            # Debian builds Prometheus without Kubernetes service discovery.
            skipped.append("promtool check config of the OpenStack-Helm scrape job: this "
                           "promtool has no kubernetes_sd_configs (Debian's build)")
        else:
            c.check(r.returncode == 0, "openstack-helm: promtool check config of the scrape "
                    "job\n" + r.stdout + r.stderr)
        (job,) = scrape["scrape_configs"]
        relabel = job.get("relabel_configs", [])
        c.check(any(r.get("target_label") == "instance"
                    and r.get("source_labels") == ["__meta_kubernetes_pod_node_name"]
                    for r in relabel), "openstack-helm: instance = the node name")
        c.check(any(r.get("action") == "keep" and r.get("regex") == "hostiso-exporter"
                    for r in relabel), "openstack-helm: keeps only the exporter's pods")
        check_kolla_prometheus(c, tmp)
    check_kolla_run_script(c)
    check_units(c, skipped)
    return c.finish(skipped)


if __name__ == "__main__":
    sys.exit(main())
