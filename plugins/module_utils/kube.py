# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's Kubernetes client: read, list, server-side apply, merge-patch and delete
objects as plain dicts over the REST API.

The connection (kubeconfig, context, in-cluster) comes from the ``kubernetes`` package. Discovery
asks only for the group-versions in use, one request each. With a ``cache_dir`` (the controller's
temporary directory of one ansible-playbook run) the answers are shared by the run's tasks; a
kind not found in a cached answer is asked for again, so a CRD installed meanwhile is seen.
Error messages carry the API server's status and message, never a request body (which may hold
Secret data)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

try:
    from kubernetes import config as kube_config
    from kubernetes.client import ApiClient

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as import_error:  # pragma: no cover - reported when a client is made
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = import_error

APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
# Seconds to connect and to wait for an answer; a hung API server fails the task instead of the play hanging.
REQUEST_TIMEOUT = (10, 60)


class KubeError(Exception):
    """A Kubernetes request failed, or the client could not be configured."""


def connect(kubeconfig=None, context=None, cache_dir=None):
    """A client for the cluster of ``kubeconfig`` (a path or a dict) and ``context``; without
    them, K8S_AUTH_KUBECONFIG / K8S_AUTH_CONTEXT, KUBECONFIG, ~/.kube/config, or in-cluster.
    ``cache_dir``: where to share discovery answers (see the module's description)."""
    if not HAS_KUBERNETES:
        raise KubeError("the Python package kubernetes is required on the controller: pip install kubernetes")
    kubeconfig = kubeconfig or os.environ.get("K8S_AUTH_KUBECONFIG") or os.environ.get("KUBECONFIG")
    context = context or os.environ.get("K8S_AUTH_CONTEXT")
    try:
        if isinstance(kubeconfig, dict):
            api_client = kube_config.new_client_from_config_dict(config_dict=kubeconfig, context=context)
        elif kubeconfig or context or "KUBERNETES_SERVICE_HOST" not in os.environ:
            api_client = kube_config.new_client_from_config(config_file=os.path.expanduser(kubeconfig or "~/.kube/config"), context=context)
        else:
            kube_config.load_incluster_config()
            api_client = ApiClient()
    except Exception as exc:  # pylint: disable=broad-exception-caught
        where = "kubeconfig given as a dict" if isinstance(kubeconfig, dict) else "kubeconfig %s" % (kubeconfig or "~/.kube/config")
        raise KubeError("cannot load the Kubernetes connection settings (%s, context %s): %s" % (where, context or "current", exc)) from None
    return Kube(api_client, cache_dir)


def label(obj):
    """``Kind namespace/name`` of an object, for messages and diff headers."""
    metadata = obj.get("metadata") or {}
    name = metadata.get("name", "?")
    if metadata.get("namespace"):
        name = "%s/%s" % (metadata["namespace"], name)
    return "%s %s" % (obj.get("kind", "?"), name)


class Kube:
    """Plain-dict access to one cluster."""

    def __init__(self, api_client, cache_dir=None):
        self.api_client = api_client
        self._group_versions = {}
        self._cache_file = None
        self._cached = set()  # group-versions known from the cache file, not yet asked for
        if cache_dir:
            self._cache_file = os.path.join(cache_dir, "aiplatform-obot-discovery-%s.json" % hashlib.sha256(self.server.encode()).hexdigest()[:16])
            try:
                with open(self._cache_file) as handle:
                    cached = json.load(handle)
                self._group_versions = {gv: {kind: tuple(entry) for kind, entry in kinds.items()} for gv, kinds in cached.items()}
                self._cached = set(self._group_versions)
            except (OSError, ValueError, AttributeError):
                pass

    @property
    def server(self):
        return self.api_client.configuration.host

    def resource(self, api_version, kind):
        """``(collection path prefix, plural, namespaced)`` of a kind, or None when the cluster
        does not serve it (its CRD is not installed, say)."""
        stale = api_version in self._cached and kind not in self._group_versions[api_version]
        if api_version not in self._group_versions or stale:
            self._discover(api_version)
        return self._group_versions[api_version].get(kind)

    def _discover(self, api_version):
        prefix = "/api/v1" if api_version == "v1" else "/apis/%s" % api_version
        listing = self._request("GET", prefix)
        kinds = {}
        for entry in (listing or {}).get("resources", []):
            if "/" not in entry["name"]:  # not a subresource such as pods/log
                kinds[entry["kind"]] = (prefix, entry["name"], entry["namespaced"])
        self._group_versions[api_version] = kinds
        self._cached.discard(api_version)
        if self._cache_file and kinds:  # a group-version not served is asked for again next time
            self._save_cache()

    def _save_cache(self):
        """Write the answers so far (atomically: tasks of other hosts may read meanwhile)."""
        try:
            handle, path = tempfile.mkstemp(dir=os.path.dirname(self._cache_file))
            with os.fdopen(handle, "w") as out:
                json.dump({gv: kinds for gv, kinds in self._group_versions.items() if kinds}, out)
            os.replace(path, self._cache_file)
        except OSError:
            pass  # only a cache

    def path(self, api_version, kind, namespace=None, name=None):
        """The REST path of an object (with ``name``) or a collection; KubeError for a kind the
        cluster does not serve."""
        served = self.resource(api_version, kind)
        if served is None:
            raise KubeError("the cluster serves no %s %s (is its CustomResourceDefinition installed?)" % (api_version, kind))
        prefix, plural, namespaced = served
        if namespaced and not namespace:
            raise KubeError("%s %s is namespaced: metadata.namespace is missing" % (kind, name or ""))
        parts = [prefix] + (["namespaces", namespace] if namespaced else []) + [plural] + ([name] if name else [])
        return "/".join(parts)

    def object_path(self, obj):
        metadata = obj.get("metadata") or {}
        return self.path(obj.get("apiVersion"), obj.get("kind"), metadata.get("namespace"), metadata.get("name"))

    def get(self, obj):
        """The current state of ``obj`` (only apiVersion, kind and metadata name/namespace
        matter), or None when it does not exist."""
        return self._request("GET", self.object_path(obj))

    def list(self, api_version, kind, namespace=None, label_selector=None):
        """The objects of a kind (in ``namespace``, when given), or None when the cluster does
        not serve the kind."""
        if self.resource(api_version, kind) is None:
            return None
        query = [("labelSelector", label_selector)] if label_selector else []
        listing = self._request("GET", self.path(api_version, kind, namespace), query)
        items = (listing or {}).get("items", [])
        for item in items:  # a list leaves these out of each item
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def apply(self, obj, field_manager, force=True, dry_run=False):
        """Server-side apply; returns the object as the API server left it (or would leave it)."""
        query = [("fieldManager", field_manager), ("force", "true" if force else "false"), ("fieldValidation", "Strict")]
        return self._request("PATCH", self.object_path(obj), query + self._dry_run(dry_run), obj, APPLY_PATCH)

    def merge_patch(self, obj, patch, dry_run=False):
        return self._request("PATCH", self.object_path(obj), self._dry_run(dry_run), patch, MERGE_PATCH)

    def delete(self, obj, dry_run=False):
        """Delete ``obj``; False when it was already gone."""
        return self._request("DELETE", self.object_path(obj), self._dry_run(dry_run)) is not None

    @staticmethod
    def _dry_run(dry_run):
        return [("dryRun", "All")] if dry_run else []

    def _request(self, method, path, query=None, body=None, content_type="application/json"):
        """The decoded answer; None when a read or a deletion finds no such object (404)."""
        client = self.api_client
        try:
            method, url, headers, body, _post = client.param_serialize(
                method, path, query_params=query or [], header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body, auth_settings=["BearerToken"])
            response = client.call_api(method, url, header_params=headers, body=body, _request_timeout=REQUEST_TIMEOUT)
            response.read()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # urllib3 names the host and port and why it could not connect.
            raise KubeError("cannot reach the Kubernetes API server at %s: %s" % (self.server, exc)) from None
        if response.status == 404 and method in ("GET", "DELETE"):
            return None
        if not 200 <= response.status < 300:
            raise KubeError("%s %s: %s %s" % (method, path, response.status, _status_message(response.data) or response.reason))
        return json.loads(response.data or b"null")


def _status_message(body):
    """The message of a Kubernetes Status answer."""
    try:
        return json.loads(body).get("message", "") if body else ""
    except (ValueError, AttributeError):
        return ""
