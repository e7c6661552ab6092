"""The documented deployment, read as files (no Docker engine runs here): every setting is listed
where an operator looks for it, compose protects Redis, passes the proxy's client address and
scales web behind its own proxy, the cache never writes a key that Redis's memory limit may not
evict, and the Kubernetes manifests keep the invariants of several hosts."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.cache import caches

from citedesmetiers.cache import LONGEST_TIMEOUT, RedisCache
from tests.test_settings import ROOT

SETTINGS = (ROOT / "citedesmetiers" / "settings.py").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
README = (ROOT / "README.md").read_text()
# Read by settings.py through os.environ directly, not the typed readers.
OTHER_VARIABLES = {"VAR_DIR", "DATABASE_URL", "CELERY_BROKER_URL"}


def setting_variables() -> set[str]:
    return set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', SETTINGS)) | OTHER_VARIABLES


@pytest.mark.parametrize("variable", sorted(setting_variables()))
def test_every_variable_is_documented_in_the_readme_and_the_example(variable):
    assert f"`{variable}`" in README, f"{variable} is missing from the README's table"
    assert re.search(rf"^#? ?{variable}=", ENV_EXAMPLE, re.M), f"{variable} not in .env.example"


def test_compose_passes_every_variable_of_the_settings():
    environment = COMPOSE["x-app"]["environment"]
    debugging_only = {"CELERY_TASK_ALWAYS_EAGER"}
    # `make run`'s server port: the image's gunicorn always listens on 8000.
    development_only = {"PORT"}
    assert setting_variables() - debugging_only - development_only - set(environment) == set()


def test_compose_redis_asks_for_a_password_and_has_a_memory_limit():
    redis = COMPOSE["services"]["redis"]
    command = " ".join(redis["command"])
    assert '--requirepass "$$REDIS_PASSWORD"' in command
    assert "--maxmemory " in command
    assert "--maxmemory-policy volatile-lru" in command
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD")
    environment = COMPOSE["x-app"]["environment"]
    for url in (environment["REDIS_URL"], environment["CELERY_BROKER_URL"]):
        assert url.startswith("redis://:${REDIS_PASSWORD:?")
    assert environment["REDIS_URL"].endswith("/0")
    assert environment["CELERY_BROKER_URL"].endswith("/1")  # never flushed with the cache


def test_compose_reads_the_client_behind_its_proxy():
    assert COMPOSE["x-app"]["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_redis_is_never_published_to_the_host():
    assert "ports" not in COMPOSE["services"]["redis"]


def test_every_cache_key_expires_so_eviction_can_take_it(db):
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("Only Redis evicts; the embedded default has no memory limit (CI runs both).")
    cache.set("forever", "value", None)
    cache.add("added-forever", "value", None)
    client = cache._cache.get_client()
    for key in ("forever", "added-forever"):
        ttl = client.ttl(cache.make_and_validate_key(key))
        assert 0 < ttl <= LONGEST_TIMEOUT


def test_the_lock_pins_every_dependency_within_its_range():
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[name.lower().replace("_", "-")] = version
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock (make lock)"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]} vs {spec}"


def test_make_and_the_image_install_with_the_lock():
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()
    assert "-c requirements.lock" in (ROOT / "Dockerfile").read_text()


# --- docker compose: one host, `--scale web=N` behind its proxy ----------------------------------

HAPROXY = "\n".join(
    line.split("#")[0].rstrip()
    for line in (ROOT / "deploy" / "compose" / "haproxy.cfg").read_text().splitlines()
)


def test_compose_web_publishes_no_host_port_so_it_scales():
    web = COMPOSE["services"]["web"]
    assert "ports" not in web, "a fixed host port lets only one web container start"
    assert "container_name" not in web
    assert web.get("expose") == ["8000"]


def test_compose_proxy_publishes_the_port_and_round_robins_over_the_web_service():
    proxy = COMPOSE["services"]["proxy"]
    assert proxy["ports"] == ["${WEB_BIND:-127.0.0.1}:${WEB_PORT:-8000}:8000"]
    mounted = {volume.split(":")[0]: volume.split(":")[1] for volume in proxy["volumes"]}
    assert mounted["./deploy/compose/haproxy.cfg"] == "/usr/local/etc/haproxy/haproxy.cfg"
    assert re.search(r"^\s*bind :8000$", HAPROXY, re.M)
    assert re.search(r"^\s*balance roundrobin$", HAPROXY, re.M)
    # Every web container by the service's name, asked again of Docker's DNS as --scale changes.
    template = re.search(r"^\s*server-template \w+ (\d+) web:8000 (.*)$", HAPROXY, re.M)
    assert template and int(template[1]) > 1
    assert "resolvers docker" in template[2]
    assert re.search(r"^\s*nameserver \w+ 127\.0\.0\.11:53$", HAPROXY, re.M)
    # It passes your proxy's X-Forwarded-For unchanged: TRUSTED_PROXY_COUNT stays 1.
    assert "forwardfor" not in HAPROXY
    assert "option prefer-last-server" not in HAPROXY and "cookie " not in HAPROXY


# --- Kubernetes: several hosts -------------------------------------------------------------------

KUBE = ROOT / "deploy" / "kubernetes"
IMAGE = COMPOSE["x-app"]["image"]


def manifests(folder=KUBE) -> dict[str, list[dict]]:
    return {
        path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        for path in sorted(folder.glob("*.yaml"))
        if path.name != "kustomization.yaml"
    }


def objects(folder=KUBE) -> list[dict]:
    return [doc for docs in manifests(folder).values() for doc in docs]


def find(kind: str, name: str, folder=KUBE) -> dict:
    (found,) = [o for o in objects(folder) if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def pod_specs(folder=KUBE) -> dict[str, dict]:
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]
        for o in objects(folder)
        if o["kind"] in ("Deployment", "Job")
    }


def app_containers() -> list[dict]:
    return [
        container
        for spec in pod_specs().values()
        for container in [*spec.get("initContainers", []), *spec["containers"]]
    ]


def test_every_manifest_parses_and_every_kind_is_there():
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects()}
    assert kinds == {
        ("ConfigMap", "cdm-config"),
        ("Secret", "cdm-secret"),
        ("PersistentVolumeClaim", "media"),
        ("Job", "migrate"),
        ("Deployment", "web"),
        ("Service", "web"),
        ("Ingress", "web"),
        ("Deployment", "worker"),
        ("Deployment", "reports-worker"),
        ("Deployment", "beat"),
    }
    for o in objects():
        assert o["apiVersion"] in ("v1", "apps/v1", "batch/v1", "networking.k8s.io/v1")


def test_kustomization_lists_every_file_of_its_folder():
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(manifests())
    assert [image["name"] for image in kustomization["images"]] == [IMAGE.split(":")[0]]
    # The optional PgBouncer is a component of its own, listed there in full, off by default.
    component = yaml.safe_load((KUBE / "pgbouncer" / "kustomization.yaml").read_text())
    assert component["kind"] == "Component"
    assert sorted(component["resources"]) == sorted(manifests(KUBE / "pgbouncer"))
    assert "components" not in kustomization
    assert re.search(
        r"^# components:\n#   - pgbouncer$", (KUBE / "kustomization.yaml").read_text(), re.M
    )
    assert sorted(path.name for path in KUBE.iterdir() if path.is_dir()) == ["pgbouncer"]


def test_one_image_everywhere_the_one_compose_builds():
    images = {container["image"] for container in app_containers()}
    assert images == {IMAGE}


def test_web_is_ready_on_healthz_and_alive_on_its_port():
    (web,) = pod_specs()["web"]["containers"]
    (port,) = web["ports"]
    assert port["containerPort"] == 8000  # the image's gunicorn
    readiness = web["readinessProbe"]["httpGet"]
    assert readiness["path"] == "/healthz"
    assert readiness["port"] in (port["name"], port["containerPort"])
    # The probe's Host must pass ALLOWED_HOSTS, or every pod stays unready.
    (host,) = [h["value"] for h in readiness["httpHeaders"] if h["name"] == "Host"]
    assert host in find("ConfigMap", "cdm-config")["data"]["ALLOWED_HOSTS"].split(",")
    # Liveness without the database: /healthz answers 503 when it is away (test_healthz.py), and
    # restarting every web pod would not bring it back.
    liveness = web["livenessProbe"]
    assert "httpGet" not in liveness
    assert liveness["tcpSocket"]["port"] in (port["name"], port["containerPort"])


def test_the_service_and_the_ingress_lead_to_the_web_port():
    service = find("Service", "web")
    assert (
        service["spec"]["selector"] == find("Deployment", "web")["spec"]["selector"]["matchLabels"]
    )
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == "http"
    (rule,) = find("Ingress", "web")["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "web", "port": {"name": service_port["name"]}}
    assert rule["host"] in find("ConfigMap", "cdm-config")["data"]["ALLOWED_HOSTS"].split(",")


def test_there_is_one_beat_ever():
    beat = find("Deployment", "beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = beat["spec"]["template"]["spec"]["containers"]
    assert container["command"][:4] == ["celery", "-A", "citedesmetiers", "beat"]
    assert "autoscaling" not in {o["apiVersion"].split("/")[0] for o in objects()}


def test_the_workers_take_the_queues_of_the_routes():
    from django.conf import settings

    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {"celery"}
    taken = {}
    for name in ("worker", "reports-worker"):
        (container,) = pod_specs()[name]["containers"]
        command = container["command"]
        assert command[:4] == ["celery", "-A", "citedesmetiers", "worker"]
        taken[name] = command[command.index("-Q") + 1]
        compose = COMPOSE["services"][name]["command"]
        assert command == compose, f"{name} runs as in docker-compose.yml"
    assert set(taken.values()) == queues
    assert taken["reports-worker"] == "reports"


def test_migrate_is_a_job_that_stops():
    job = find("Job", "migrate")
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    assert isinstance(job["spec"]["backoffLimit"], int) and 0 < job["spec"]["backoffLimit"] < 10
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][:3] == ["python", "manage.py", "migrate"]
    # The other pods wait for it before they start.
    for name, spec in pod_specs().items():
        if name != "migrate":
            (wait,) = spec["initContainers"]
            assert "manage.py migrate --check" in " ".join(wait["command"])


def production_required_variables() -> set[str]:
    """The variables with no default once DEBUG is off: no default argument, a None one, or an
    `x if DEBUG else <None or empty>`. Plus the two whose embedded defaults (SQLite, files under
    var/) cannot be shared by several hosts."""
    import ast

    required = set()
    for node in ast.walk(ast.parse(SETTINGS)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "").startswith("env_")):
            continue
        name, *rest = node.args
        default = rest[0] if rest else None
        if isinstance(default, ast.IfExp):
            default = default.orelse
        empty = (
            default is None
            or (isinstance(default, ast.Constant) and default.value is None)
            or (isinstance(default, ast.List) and not default.elts)
        )
        if empty:
            required.add(name.value)
    return required | {"DATABASE_URL", "REDIS_URL"}


def test_the_settings_required_in_production_are_known():
    # The reading above must find what the README calls required.
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL", "DATABASE_URL"} <= (
        production_required_variables()
    )


def test_configmap_and_secret_give_every_setting_and_every_required_one_a_value():
    config = find("ConfigMap", "cdm-config")["data"]
    secret = find("Secret", "cdm-secret")["stringData"]
    assert set(config) & set(secret) == set()
    given = {**config, **secret}
    debugging_only, development_only = {"CELERY_TASK_ALWAYS_EAGER"}, {"PORT"}
    assert setting_variables() - debugging_only - development_only - set(given) == set()
    assert set(given) - setting_variables() == set(), "a variable the settings never read"
    for variable in production_required_variables():
        assert given[variable], f"{variable} has no default in production"
    assert config["DEBUG"] == "false"
    # Every pod reads both.
    for container in app_containers():
        sources = {next(iter(s)): next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"configMapRef": "cdm-config", "secretRef": "cdm-secret"}


SECRET_WORDS = re.compile(r"SECRET|PASSWORD|_URL$")


def test_no_secret_in_a_configmap_and_only_placeholders_in_the_secret():
    for folder in (KUBE, KUBE / "pgbouncer"):
        for o in objects(folder):
            if o["kind"] == "ConfigMap":
                leaked = {key for key in o["data"] if SECRET_WORDS.search(key)} - {"SITE_URL"}
                assert leaked == set(), f"{leaked} belong in a Secret"
                assert "CHANGE-ME" not in str(o["data"])
            if o["kind"] == "Secret":
                assert "data" not in o  # base64 would hide a real value from review
                for key, value in o["stringData"].items():
                    # An optional one may stay empty (DATABASE_REPLICA_URL: no replica).
                    optional = key not in production_required_variables() and value == ""
                    assert "CHANGE-ME" in value or optional, f"{key} must be a placeholder"
    secret = find("Secret", "cdm-secret")["stringData"]
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"} <= set(secret)
    # A forgotten placeholder stops start-up: the settings want 50 characters.
    assert len(secret["SECRET_KEY"]) < 50
    assert secret["REDIS_URL"].endswith("/0") and secret["CELERY_BROKER_URL"].endswith("/1")


def test_every_pod_runs_as_the_image_user_on_a_read_only_root():
    for name, spec in {**pod_specs(), **pod_specs(KUBE / "pgbouncer")}.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) & set(resources["limits"])
    # The Dockerfile's user; /app/var is the one folder the app writes (VAR_DIR), /tmp the uploads'.
    assert "--uid 10001" in (ROOT / "Dockerfile").read_text()
    for name, spec in pod_specs().items():
        assert spec["securityContext"]["runAsUser"] == 10001, name
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert {"/app/var", "/tmp"} <= mounts, name


def test_web_and_the_reports_worker_share_the_report_pdfs():
    claim = find("PersistentVolumeClaim", "media")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # pods on several nodes
    for name in ("web", "reports-worker"):
        spec = pod_specs()[name]
        (container,) = spec["containers"]
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/app/var/media"]
        (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
        assert volume["persistentVolumeClaim"]["claimName"] == "media"


def test_the_optional_pgbouncer_pools_in_transaction_mode():
    ini = find("ConfigMap", "pgbouncer-config", KUBE / "pgbouncer")["data"]["pgbouncer.ini"]
    assert re.search(r"^pool_mode = transaction$", ini, re.M)
    (port,) = re.findall(r"^listen_port = (\d+)$", ini, re.M)
    service = find("Service", "pgbouncer", KUBE / "pgbouncer")
    assert service["spec"]["ports"][0]["port"] == int(port)
    (container,) = pod_specs(KUBE / "pgbouncer")["pgbouncer"]["containers"]
    assert container["ports"][0]["containerPort"] == int(port)
    assert "pgbouncer:6432" in (KUBE / "secret.yaml").read_text()  # how to point at it
    # and the app told it is pooled (tests/test_pgbouncer.py).
    component = yaml.safe_load((KUBE / "pgbouncer" / "kustomization.yaml").read_text())
    (patch,) = component["patches"]
    assert patch["target"] == {"kind": "ConfigMap", "name": "cdm-config"}
    assert yaml.safe_load(patch["patch"]) == [
        {"op": "replace", "path": "/data/DATABASE_POOLED", "value": "true"}
    ]
    assert find("ConfigMap", "cdm-config")["data"]["DATABASE_POOLED"] == ""


def test_the_ingress_lets_a_catalogue_spreadsheet_through():
    from django.conf import settings

    annotations = find("Ingress", "web")["metadata"]["annotations"]
    limit = annotations["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert limit.endswith("m") and int(limit[:-1]) * 1024 * 1024 > settings.IMPORT_MAX_BYTES
