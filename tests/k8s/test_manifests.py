"""deploy/k8s as kubectl renders it: every overlay valid for the Kubernetes version
deploy/k8s/README.md names, offline, and holding to what the contract asks (section 13):
only the gateway and the storefront reachable from outside, probes, requests and limits
and a non-root user everywhere, migrations before serving, secrets never in the manifests.

kubectl (with its built-in kustomize) must be installed: without it these tests fail,
they never skip. No cluster is needed; what needs one is in deploy/k8s/README.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
NAMESPACE = "souk"

WORKLOAD_KINDS = ("Deployment", "StatefulSet")
POD_KINDS = (*WORKLOAD_KINDS, "Job")
# Services with a database: a migration Job each, and every one of their pods waits for it.
DATABASE_SERVICES = {
    "users",
    "products",
    "orders",
    "gateway",
    "notifications",
    "cart",
    "payments",
    "shipping",
}
SERVERS = DATABASE_SERVICES | {"storefront"}
PUBLIC = {"gateway", "storefront"}
AUTOSCALED = {"gateway", "products", "orders", "cart", "storefront"}
# Who calls whom on port 8000: compose.yaml's *_URL variables of each process.
CALLS = {
    "gateway": {"users", "products", "orders", "cart", "payments", "shipping"},
    "storefront": {"gateway"},
    "products": {"users"},
    "orders": {"users", "products", "cart", "shipping"},
    "orders-consumer": {"users", "products"},
    "orders-reconciler": {"users", "products"},
    "notifications": {"users"},
    "notifications-consumer": {"users"},
    "cart": {"users", "products"},
    "payments": {"users"},
    "payments-relay": {"users"},
    "payments-consumer": {"users"},
    "shipping": {"users", "products"},
    "shipping-relay": {"products"},
    "shipping-consumer": {"products"},
}
BROKER_SERVICES = {"users", "orders", "notifications", "payments", "shipping"}
REDIS_SERVICES = {"gateway", "cart"}
SOUK_IMAGE = re.compile(r"^(?:[\w.:-]+/)*souk:[\w][\w.-]*$")
# The dev overlay's own backing services, each pinned by a tag.
BACKING_IMAGE = re.compile(r"^(postgres|rabbitmq|redis):\d[\w.-]*$")
# A name that holds a secret: ends in one (a link to a reset page is none), or a URL that
# carries a password.
SECRET_NAME = re.compile(
    r"(SECRET|PASSWORD|PASS|TOKEN|_KEY|DATABASE_URL|BROKER_URL|REDIS_URL|EMAIL_URL)$"
)
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]+:[^/@\s]+@")

# Paths in the pods' file systems, not here.
TMP = "/tmp"  # noqa: S108
METRICS = "/tmp/metrics"  # noqa: S108
HEARTBEAT = "/tmp/heartbeat"  # noqa: S108

INGRESS_CONTROLLER = ({"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx")
PROMETHEUS = ({"app.kubernetes.io/name": "prometheus"}, "monitoring")
DNS = ({"k8s-app": "kube-dns"}, "kube-system")
COLLECTOR = ({"app.kubernetes.io/name": "opentelemetry-collector"}, "observability")

Object = dict[str, Any]


def kubernetes_version() -> str:
    """The version deploy/k8s/README.md names on its line "Kubernetes version: X.Y"."""
    found = re.search(r"^Kubernetes version: (\d+\.\d+)$", (K8S / "README.md").read_text(), re.M)
    assert found, 'deploy/k8s/README.md names no "Kubernetes version: X.Y" line'
    return found.group(1)


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl is not installed: it renders deploy/k8s (kubectl kustomize); install it"
        )
    return found


def render(overlay: str | Path) -> list[Object]:
    path = overlay if isinstance(overlay, Path) else K8S / "overlays" / overlay
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_rendered: dict[str, list[Object]] = {}


@pytest.fixture
def objects(overlay: str) -> list[Object]:
    if overlay not in _rendered:
        _rendered[overlay] = render(overlay)
    return _rendered[overlay]


def of_kind(objects: list[Object], *kinds: str) -> list[Object]:
    return [o for o in objects if o["kind"] in kinds]


def named(objects: list[Object], kind: str, name: str) -> Object:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert found, f"no {kind} {name}"
    return found[0]


def pod_spec(obj: Object) -> Object:
    return obj["spec"]["template"]["spec"]


def pod_labels(obj: Object) -> dict[str, str]:
    return obj["spec"]["template"]["metadata"].get("labels", {})


def containers(obj: Object, *, init: bool = True) -> Iterator[Object]:
    spec = pod_spec(obj)
    yield from spec["containers"]
    if init:
        yield from spec.get("initContainers", [])


def is_souk(container: Object) -> bool:
    return bool(SOUK_IMAGE.match(container.get("image", "")))


def souk_name(obj: Object) -> str:
    return pod_labels(obj)["app.kubernetes.io/name"]


# --- Valid for the Kubernetes version, offline ---


def test_the_schemas_ship_with_the_package() -> None:
    """kubernetes-validate reads its schemas from its own wheel: nothing is downloaded."""
    schemas = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    assert (schemas / f"v{kubernetes_version()}.0-local-strict" / "_definitions.json").is_file()


def test_every_object_is_valid_for_the_kubernetes_version(objects: list[Object]) -> None:
    version = kubernetes_version()
    problems = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as e:
            problems.append(f"{obj['kind']} {obj['metadata'].get('name')}: {e}")
    assert not problems, "\n".join(problems)


def test_a_broken_object_is_refused() -> None:
    """The strict check refuses what the cluster would: a field no schema has."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "x", "image": "x", "livenessprobe": {}}]},
            },
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_version(), strict=True)


def test_everything_is_in_the_namespace(objects: list[Object]) -> None:
    outside = [
        f"{o['kind']} {o['metadata']['name']}"
        for o in objects
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != NAMESPACE
    ]
    assert not outside


# --- Workloads: probes, resources, non-root ---


def test_every_workload_container_has_readiness_and_liveness(objects: list[Object]) -> None:
    missing = [
        f"{o['metadata']['name']}/{c['name']}: {probe}"
        for o in of_kind(objects, *WORKLOAD_KINDS)
        for c in containers(o, init=False)
        for probe in ("readinessProbe", "livenessProbe")
        if probe not in c
    ]
    assert not missing


def test_the_loops_are_live_while_they_touch_their_heartbeat(objects: list[Object]) -> None:
    """A relay, a consumer or the reconciler (no port) is restarted once its loop stops going
    round: the liveness probe reads the age of the file HEARTBEAT_FILE names, which only
    the loop touches (souk_common.heartbeat); a process merely there does not pass."""
    loops = [
        (deployment["metadata"]["name"], c)
        for deployment in of_kind(objects, "Deployment")
        for c in containers(deployment, init=False)
        if not c.get("ports")
    ]
    assert len(loops) == 9  # four relays, four consumers, the reconciler
    for name, c in loops:
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        assert env.get("HEARTBEAT_FILE") == HEARTBEAT, name
        command = c["livenessProbe"]["exec"]["command"]
        assert command == ["sh", "-c", f"find {HEARTBEAT} -mmin -2 | grep -q ."], name


def test_servers_probe_their_health_endpoints_by_a_name_they_accept(objects: list[Object]) -> None:
    """A server (a container with a port) is asked /health/ready and /health/live with a Host
    its ALLOWED_HOSTS lists; the other processes (relays, consumers) by an exec probe."""
    configs = {o["metadata"]["name"]: o.get("data", {}) for o in of_kind(objects, "ConfigMap")}
    for deployment in of_kind(objects, "Deployment"):
        for c in containers(deployment, init=False):
            if not c.get("ports"):
                assert "exec" in c["livenessProbe"], deployment["metadata"]["name"]
                continue
            allowed = {e["value"] for e in c.get("env", []) if e["name"] == "ALLOWED_HOSTS"} or {
                configs[ref["configMapRef"]["name"]]["ALLOWED_HOSTS"]
                for ref in c["envFrom"]
                if "configMapRef" in ref
            }
            hosts = allowed.pop().split(",")
            for probe, path in (
                ("readinessProbe", "/health/ready"),
                ("livenessProbe", "/health/live"),
            ):
                get = c[probe]["httpGet"]
                assert get["path"] == path, (deployment["metadata"]["name"], probe)
                host = {h["name"]: h["value"] for h in get.get("httpHeaders", [])}.get("Host")
                assert host in hosts, (deployment["metadata"]["name"], c["name"], probe, host)


def test_every_container_has_requests_and_limits(objects: list[Object]) -> None:
    missing = [
        f"{o['kind']} {o['metadata']['name']}/{c['name']}: {part}.{resource}"
        for o in of_kind(objects, *POD_KINDS)
        for c in containers(o)
        for part in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in c.get("resources", {}).get(part, {})
    ]
    assert not missing


def test_every_container_runs_as_a_non_root_user_with_nothing_to_gain(
    objects: list[Object],
) -> None:
    problems = []
    for o in of_kind(objects, *POD_KINDS):
        name = o["metadata"]["name"]
        pod = pod_spec(o).get("securityContext", {})
        if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: seccompProfile")
        for c in containers(o):
            sc = {**pod, **c.get("securityContext", {})}
            expected = {
                "runAsNonRoot": True,
                "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False,
            }
            if is_souk(c):
                expected["runAsUser"] = 10001
            problems += [
                f"{name}/{c['name']}: {key}"
                for key, value in expected.items()
                if sc.get(key) != value
            ]
            if c.get("securityContext", {}).get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{name}/{c['name']}: capabilities")
    assert not problems


def test_every_souk_process_has_tmp_and_the_metrics_directory(objects: list[Object]) -> None:
    problems = []
    for o in of_kind(objects, *POD_KINDS):
        volumes = {v["name"]: v for v in pod_spec(o).get("volumes", [])}
        for c in containers(o, init=False):
            if not is_souk(c):
                continue
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            for path in (TMP, METRICS):
                if "emptyDir" not in volumes.get(mounts.get(path, ""), {}):
                    problems.append(f"{o['metadata']['name']}/{c['name']}: {path}")
            if env.get("PROMETHEUS_MULTIPROC_DIR") != METRICS:
                problems.append(f"{o['metadata']['name']}/{c['name']}: PROMETHEUS_MULTIPROC_DIR")
    assert not problems


def test_every_image_is_souk_or_a_pinned_backing_service(
    objects: list[Object], overlay: str
) -> None:
    for o in of_kind(objects, *POD_KINDS):
        for c in containers(o):
            image = c["image"]
            assert not image.endswith(":latest"), image
            assert SOUK_IMAGE.match(image) or (overlay == "dev" and BACKING_IMAGE.match(image)), (
                image
            )


def test_every_server_is_scraped_on_its_own_port(objects: list[Object]) -> None:
    for deployment in of_kind(objects, "Deployment"):
        ports = {p["containerPort"] for c in containers(deployment) for p in c.get("ports", [])}
        if not ports:
            continue
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        name = deployment["metadata"]["name"]
        assert annotations.get("prometheus.io/scrape") == "true", name
        assert annotations.get("prometheus.io/path") == "/metrics", name
        expected = 8009 if name == "gateway" else 8000
        assert annotations.get("prometheus.io/port") == str(expected), name
        assert expected in ports, name
        # Prometheus asks with Host: <pod IP>; a server allows it when it knows it.
        scraped = next(c for c in containers(deployment) if expected in _ports(c))
        pod_ip = {e["name"]: e.get("valueFrom", {}) for e in scraped.get("env", [])}["POD_IP"]
        assert pod_ip == {"fieldRef": {"fieldPath": "status.podIP"}}, name


def _ports(container: Object) -> set[int]:
    return {port["containerPort"] for port in container.get("ports", [])}


# --- The gateway's two listeners ---


def test_the_gateway_pod_runs_both_listeners_sharing_the_metrics(objects: list[Object]) -> None:
    gateway = named(objects, "Deployment", "gateway")
    listeners = {c["name"]: c for c in containers(gateway, init=False)}
    assert len(listeners) == 2
    ports = {c["name"]: [p["containerPort"] for p in c["ports"]] for c in listeners.values()}
    assert sorted(ports.values()) == [[8000], [8009]]
    assert listeners["app"]["args"] == ["serve"]
    volumes = {v["name"]: v for v in pod_spec(gateway)["volumes"]}
    shared = {
        m["name"] for m in listeners["admin"]["volumeMounts"] if m["mountPath"] == METRICS
    } & {m["name"] for m in listeners["app"]["volumeMounts"] if m["mountPath"] == METRICS}
    assert len(shared) == 1
    assert "emptyDir" in volumes[shared.pop()]
    public = named(objects, "Service", "gateway")
    assert [p["port"] for p in public["spec"]["ports"]] == [8000]
    admin = named(objects, "Service", "gateway-admin")
    assert admin["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert [p["port"] for p in admin["spec"]["ports"]] == [8009]


# --- Reachable from outside: the gateway and the storefront alone ---


def test_only_the_gateway_and_the_storefront_are_behind_the_ingress(objects: list[Object]) -> None:
    backends = set()
    for ingress in of_kind(objects, "Ingress"):
        assert "defaultBackend" not in ingress["spec"]
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]
                backends.add(service["name"])
                assert (
                    service["port"].get("name") == "http" or service["port"].get("number") == 8000
                )
    assert backends == PUBLIC


def test_no_service_is_opened_on_the_nodes(objects: list[Object]) -> None:
    for service in of_kind(objects, "Service"):
        assert service["spec"].get("type", "ClusterIP") in ("ClusterIP", "ExternalName"), service


# --- Secrets ---


def test_no_secret_is_in_the_manifests(objects: list[Object]) -> None:
    assert not of_kind(objects, "Secret")
    problems = []
    for config in of_kind(objects, "ConfigMap"):
        for key, value in config.get("data", {}).items():
            if SECRET_NAME.search(key) or CREDENTIALS_IN_URL.search(value):
                problems.append(f"ConfigMap {config['metadata']['name']}: {key}")
    for o in of_kind(objects, *POD_KINDS):
        for c in containers(o):
            for e in c.get("env", []):
                if "value" in e and (
                    SECRET_NAME.search(e["name"]) or CREDENTIALS_IN_URL.search(e["value"])
                ):
                    problems.append(f"{o['metadata']['name']}/{c['name']}: {e['name']}")
    assert not problems


def test_every_souk_pod_reads_its_service_secret(objects: list[Object]) -> None:
    for o in of_kind(objects, *POD_KINDS):
        service = pod_labels(o).get("souk.io/service")
        if service is None:
            continue
        for c in containers(o):
            refs = [ref["secretRef"]["name"] for ref in c.get("envFrom", []) if "secretRef" in ref]
            assert refs == [f"souk-{service}"], (o["metadata"]["name"], c["name"])


# --- Migrations before serving ---


def test_each_service_with_a_database_has_its_migration_job(objects: list[Object]) -> None:
    jobs = {pod_labels(j)["souk.io/service"]: j for j in of_kind(objects, "Job")}
    assert set(jobs) == DATABASE_SERVICES
    for job in jobs.values():
        [c] = list(containers(job))
        assert c["args"] == ["prepare"]
        assert pod_spec(job)["restartPolicy"] in ("OnFailure", "Never")


def test_every_pod_of_a_service_with_a_database_waits_for_its_migrations(
    objects: list[Object],
) -> None:
    for deployment in of_kind(objects, "Deployment"):
        service = pod_labels(deployment)["souk.io/service"]
        waiting = [
            c
            for c in pod_spec(deployment).get("initContainers", [])
            if "migrate --check" in " ".join(c["args"])
        ]
        if service in DATABASE_SERVICES:
            assert len(waiting) == 1, deployment["metadata"]["name"]
            assert "until" in waiting[0]["args"][-1], "it must loop until the migrations are in"
        else:
            assert not waiting, deployment["metadata"]["name"]


# --- Scaling and disruption ---


def test_autoscalers(objects: list[Object]) -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind(objects, "Deployment")}
    targets = set()
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        assert hpa["apiVersion"] == "autoscaling/v2"
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment"
        assert ref["name"] in deployments
        assert hpa["spec"]["minReplicas"] >= 2
        # The autoscaler owns the count: a replicas field would reset it at each apply.
        assert "replicas" not in deployments[ref["name"]]["spec"], ref["name"]
        targets.add(ref["name"])
    assert targets == AUTOSCALED


def test_every_server_has_a_disruption_budget(objects: list[Object]) -> None:
    covered = set()
    for pdb in of_kind(objects, "PodDisruptionBudget"):
        labels = pdb["spec"]["selector"]["matchLabels"]
        covered |= {
            d["metadata"]["name"]
            for d in of_kind(objects, "Deployment")
            if labels.items() <= pod_labels(d).items()
        }
    assert covered >= SERVERS


# --- Network policies ---


def matches(selector: Object | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = (
            expression["key"],
            expression["operator"],
            expression.get("values", []),
        )
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


def peer_matches(peer: Object, labels: dict[str, str], namespace: str) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], {"kubernetes.io/metadata.name": namespace}):
            return False
    elif namespace != NAMESPACE:
        return False
    return matches(peer.get("podSelector"), labels)


def rule_allows(
    rule: Object, side: str, labels: dict[str, str], namespace: str, port: int, protocol: str
) -> bool:
    peers = rule.get(side)
    if peers is not None and not any(peer_matches(p, labels, namespace) for p in peers):
        return False
    ports = rule.get("ports")
    return ports is None or any(
        p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports
    )


def allowed(
    policies: list[Object],
    source: tuple[dict[str, str], str],
    destination: tuple[dict[str, str], str],
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether the policies let source's pod reach destination's port: its egress (when the
    source is in the namespace) and the destination's ingress (when it is)."""

    def side(
        kind: str, here: tuple[dict[str, str], str], there: tuple[dict[str, str], str]
    ) -> bool:
        labels, namespace = here
        if namespace != NAMESPACE:
            return True
        selecting = [
            p
            for p in policies
            if kind in p["spec"]["policyTypes"] and matches(p["spec"]["podSelector"], labels)
        ]
        rules_key, peers_key = ("egress", "to") if kind == "Egress" else ("ingress", "from")
        return any(
            rule_allows(rule, peers_key, there[0], there[1], port, protocol)
            for p in selecting
            for rule in p["spec"].get(rules_key, [])
        )

    return side("Egress", source, destination) and side("Ingress", destination, source)


def pods(objects: list[Object]) -> dict[str, tuple[dict[str, str], str]]:
    return {souk_name(o): (pod_labels(o), NAMESPACE) for o in of_kind(objects, *POD_KINDS)}


def test_a_default_deny_policy_selects_every_pod(objects: list[Object]) -> None:
    policies = of_kind(objects, "NetworkPolicy")
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny


def test_services_answer_their_callers_alone(objects: list[Object]) -> None:
    policies = of_kind(objects, "NetworkPolicy")
    everyone = pods(objects)
    servers = {name: pod for name, pod in everyone.items() if name in SERVERS}
    unexpected, missing = [], []
    for source_name, source in everyone.items():
        for server_name, server in servers.items():
            expected = server_name in CALLS.get(source_name, set())
            if allowed(policies, source, server, 8000) != expected:
                (missing if expected else unexpected).append(f"{source_name} -> {server_name}")
    assert not missing, f"blocked: {missing}"
    assert not unexpected, f"allowed: {unexpected}"


def test_the_ingress_controller_reaches_the_public_two_alone(objects: list[Object]) -> None:
    policies = of_kind(objects, "NetworkPolicy")
    reached = {
        name
        for name, pod in pods(objects).items()
        if allowed(policies, INGRESS_CONTROLLER, pod, 8000)
    }
    assert reached == PUBLIC


def test_prometheus_reaches_every_scraped_port_and_dns_answers_everyone(
    objects: list[Object],
) -> None:
    policies = of_kind(objects, "NetworkPolicy")
    for o in of_kind(objects, *POD_KINDS):
        pod = (pod_labels(o), NAMESPACE)
        assert allowed(policies, pod, DNS, 53, "UDP"), souk_name(o)
        port = o["spec"]["template"]["metadata"].get("annotations", {}).get("prometheus.io/port")
        if port:
            assert allowed(policies, PROMETHEUS, pod, int(port)), souk_name(o)


def test_mail_leaves_from_the_notifications_consumer_alone(objects: list[Object]) -> None:
    senders = set()
    for policy in of_kind(objects, "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            if any(p.get("port") == 587 for p in rule.get("ports", [])):
                senders |= {
                    souk_name(o)
                    for o in of_kind(objects, *POD_KINDS)
                    if matches(policy["spec"]["podSelector"], pod_labels(o))
                }
    assert senders == {"notifications-consumer"}


def test_dev_backing_services_answer_their_own_service_alone() -> None:
    objects = _rendered.get("dev") or render("dev")
    policies = of_kind(objects, "NetworkPolicy")
    everyone = pods(objects)
    problems = []
    for name, pod in everyone.items():
        service = pod[0].get("souk.io/service")
        for database in DATABASE_SERVICES:
            if allowed(policies, pod, everyone[f"{database}-db"], 5432) != (service == database):
                problems.append(f"{name} -> {database}-db")
        if allowed(policies, pod, everyone["rabbitmq"], 5672) != (service in BROKER_SERVICES):
            problems.append(f"{name} -> rabbitmq")
        if allowed(policies, pod, everyone["redis"], 6379) != (service in REDIS_SERVICES):
            problems.append(f"{name} -> redis")
    assert not problems


def test_production_services_reach_their_managed_backing_services() -> None:
    objects = _rendered.get("production") or render("production")
    policies = of_kind(objects, "NetworkPolicy")

    def reaches_outside(labels: dict[str, str], port: int) -> bool:
        return any(
            "ipBlock" in peer and any(p.get("port") == port for p in rule.get("ports", []))
            for policy in policies
            if "Egress" in policy["spec"]["policyTypes"]
            and matches(policy["spec"]["podSelector"], labels)
            for rule in policy["spec"].get("egress", [])
            for peer in rule.get("to", [])
        )

    for o in of_kind(objects, *POD_KINDS):
        labels = pod_labels(o)
        service = labels.get("souk.io/service")
        assert reaches_outside(labels, 5432) == (service in DATABASE_SERVICES), souk_name(o)
        assert reaches_outside(labels, 5672) == (service in BROKER_SERVICES), souk_name(o)
        assert reaches_outside(labels, 6379) == (service in REDIS_SERVICES), souk_name(o)
    names = {
        s["metadata"]["name"]
        for s in of_kind(objects, "Service")
        if s["spec"].get("type") == "ExternalName"
    }
    assert names == {f"{s}-db" for s in DATABASE_SERVICES} | {"rabbitmq", "redis"}


# --- Traces ---


def otlp_endpoint(objects: list[Object], container: Object) -> str | None:
    """The OTLP endpoint ``container`` exports its spans to, or None."""
    for variable in container.get("env", []):
        if variable["name"] == "OTEL_EXPORTER_OTLP_ENDPOINT":
            reference = variable["valueFrom"]["configMapKeyRef"]
            config = named(objects, "ConfigMap", reference["name"])
            return str(config["data"][reference["key"]])
    return None


def test_production_pods_send_their_spans_to_the_collector_and_nowhere_new() -> None:
    objects = _rendered.get("production") or render("production")
    policies = of_kind(objects, "NetworkPolicy")
    for deployment in of_kind(objects, "Deployment"):
        app = next(c for c in containers(deployment) if c["name"] == "app")
        endpoint = otlp_endpoint(objects, app)
        assert endpoint is not None, souk_name(deployment)
        assert endpoint.endswith(".observability.svc.cluster.local:4318")
        assert allowed(policies, (pod_labels(deployment), NAMESPACE), COLLECTOR, 4318)
    # The collector's rule opens that port of those pods, and nothing else.
    for job in of_kind(objects, "Job"):
        assert not allowed(policies, (pod_labels(job), NAMESPACE), COLLECTOR, 8000)


def test_dev_traces_nothing() -> None:
    objects = _rendered.get("dev") or render("dev")
    assert all(
        otlp_endpoint(objects, container) is None
        for workload in of_kind(objects, *POD_KINDS)
        for container in containers(workload)
    )
