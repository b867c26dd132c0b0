"""deploy/ for many vantages (issue 15): the Kubernetes manifests validated offline against the
Kubernetes API schemas (kubernetes-validate) and, for the Prometheus Operator's kinds, against what they
must match (Services and ports, the rules file, promtool); the multi-vantage compose file's configs
and Prometheus config."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from conftest import need

from monitor.config import load_config

DEPLOY = Path(__file__).parent.parent / "deploy"
K8S = DEPLOY / "kubernetes"
MULTI = DEPLOY / "multi-vantage"
KUBERNETES_VERSION = "1.30"
OPERATOR_KINDS = {"ServiceMonitor", "PrometheusRule"}


def manifests() -> list[dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs = []
    for resource in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / resource).read_text()) if d]
    return docs


def test_every_core_manifest_validates_against_the_kubernetes_schemas():
    core = [d for d in manifests() if d["kind"] not in OPERATOR_KINDS]
    assert {d["kind"] for d in core} == {"Deployment", "StatefulSet", "Service", "PersistentVolumeClaim"}
    for doc in core:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_broken_manifest_is_caught():
    deployment = next(d for d in manifests() if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["portz"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_service_monitors_select_services_by_their_labels_and_port():
    docs = manifests()
    services = [d for d in docs if d["kind"] == "Service"]
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    for monitor in (d for d in docs if d["kind"] == "ServiceMonitor"):
        wanted = monitor["spec"]["selector"]["matchLabels"]
        selected = [s for s in services if wanted.items() <= s["metadata"]["labels"].items()]
        assert len(selected) == 1, monitor["metadata"]["name"]
        ports = {p["name"] for p in selected[0]["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
        # the Service reaches the pods of one workload, on a port the container names
        pods = [w for w in workloads if selected[0]["spec"]["selector"].items()
                <= w["spec"]["template"]["metadata"]["labels"].items()]
        assert len(pods) == 1
        container_ports = {p["name"] for p in pods[0]["spec"]["template"]["spec"]["containers"][0]["ports"]}
        assert {p["targetPort"] for p in selected[0]["spec"]["ports"]} <= container_ports
    vantages = next(d for d in docs if d["metadata"]["name"] == "sla-monitor-vantages")
    assert vantages["spec"]["endpoints"][0]["metricRelabelings"][0] == {
        "sourceLabels": ["__name__"], "regex": "sla_.*", "action": "drop"}


def test_the_prometheus_rule_is_the_rules_file_and_promtool_accepts_it(tmp_path):
    spec = importlib.util.spec_from_file_location("prometheusrule", K8S / "prometheusrule.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (K8S / "prometheusrule.yaml").read_text() == module.prometheus_rule(), \
        "stale: python deploy/kubernetes/prometheusrule.py > deploy/kubernetes/prometheusrule.yaml"
    rule = next(d for d in manifests() if d["kind"] == "PrometheusRule")
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    done = subprocess.run([need("promtool"), "check", "rules", str(tmp_path / "rules.yml")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def probes(cfg) -> dict:
    return {p.id: p.model_dump() for p, _, _ in cfg.all_probes()}


@pytest.mark.parametrize("folder, vantage_file, aggregator_file", [
    (K8S / "config", "vantage.yaml", "aggregator.yaml"),
    (MULTI, "vantage.yaml", "aggregator.yaml"),
])
def test_the_shipped_vantage_and_aggregator_configs_fit_together(folder, vantage_file, aggregator_file):
    aggregator = load_config(folder / aggregator_file, env={})
    assert aggregator.daemon.mode == "aggregate" and aggregator.source.prometheus.url
    for name in aggregator.vantages:
        vantage = load_config(folder / vantage_file, env={"SLA_VANTAGE": name})
        assert vantage.vantage == name and vantage.daemon.mode == "probe"
        assert vantage.vantages == aggregator.vantages
        # the same probe ids and targets: the aggregator maps the vantages' series to its probes
        assert {k: (v.get("url"), v["kind"]) for k, v in probes(vantage).items()} == \
               {k: (v.get("url"), v["kind"]) for k, v in probes(aggregator).items()}


def test_the_multi_vantage_compose_runs_each_vantage_prometheus_and_the_aggregator(tmp_path):
    compose = yaml.safe_load((MULTI / "compose.yaml").read_text())
    services = compose["services"]
    vantage_services = {name: s for name, s in services.items() if name.startswith("vantage-")}
    names = sorted(s["environment"]["SLA_VANTAGE"] for s in vantage_services.values())
    assert names == sorted(load_config(MULTI / "aggregator.yaml", env={}).vantages)
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (MULTI / source).exists(), source
    prometheus = yaml.safe_load((MULTI / "prometheus.yml").read_text())
    targets = {t for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert targets == {f"{name}:9465" for name in vantage_services} | {"aggregator:9465"}
    # promtool on the config with the rules beside it, as the container mounts them
    shutil.copy(MULTI / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copytree(DEPLOY / "prometheus" / "rules", tmp_path / "rules")
    done = subprocess.run([need("promtool"), "check", "config", "prometheus.yml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
