# Tollgate's benchmark peer: seven of Tollgate's checks written in Rego, so
# that OPA does the same work on the same AdmissionReviews. It mirrors the
# TypeScript policies with the same ids:
#   deny: trusted-registry, privileged, run-as-non-root, resources, default-namespace
#   warn: required-labels, probes
# Parameters are the shipped defaults (data.json); the bench checks that they
# still equal policies/*/policy.yaml before it runs.
#
# The decision is a whole admission.k8s.io/v1 AdmissionReview, so OPA serves
# it from its default-decision endpoint (POST /) to the same request body the
# webhook receives: opa run --server --set=default_decision=tollgate/admission/review
#
# Not modelled (no benchmark input needs them): the UPDATE rule that turns
# violations the old object already had into warnings, per-policy exemptions
# from a PolicySet file, and Tollgate's bounds on warning count and length.
package tollgate.admission

import data.tollgate.params

review := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": response,
}

response := object.union_n([
	{"uid": object.get(input, ["request", "uid"], ""), "allowed": allowed},
	status,
	warnings,
])

default allowed := false

allowed if count(deny) == 0

status := {"status": {
	"status": "Failure",
	"code": 403,
	"reason": "Forbidden",
	"message": concat("\n", array.concat(
		[sprintf("%d AKS checklist violation%s must be fixed:", [count(deny), plural(count(deny))])],
		[sprintf("- %s", [m]) | some m in deny],
	)),
}} if {
	not allowed
} else := {}

warnings := {"warnings": [m | some m in warn]} if {
	count(warn) > 0
} else := {}

plural(1) := ""

plural(n) := "s" if n != 1

# --- what is being admitted -------------------------------------------------

request := input.request

obj := request.object

# Only CREATE and UPDATE of an object outside the always-exempt namespaces is judged.
judged if {
	request.operation in {"CREATE", "UPDATE"}
	is_object(obj)
	not namespace in params.exempt_namespaces
}

namespace := obj.metadata.namespace

namespace := request.namespace if {
	not obj.metadata.namespace
	request.namespace != ""
}

kind := k if {
	k := obj.kind
	is_string(k)
} else := ""

name := n if {
	n := obj.metadata.name
	is_string(n)
} else := sprintf("%s*", [obj.metadata.generateName]) if {
	is_string(obj.metadata.generateName)
} else := "<unnamed>"

# Where each workload kind keeps its pod template, as a dotted field path.
template_paths := {
	"Pod": [],
	"Deployment": ["spec", "template"],
	"StatefulSet": ["spec", "template"],
	"DaemonSet": ["spec", "template"],
	"ReplicaSet": ["spec", "template"],
	"ReplicationController": ["spec", "template"],
	"Job": ["spec", "template"],
	"CronJob": ["spec", "jobTemplate", "spec", "template"],
}

template_path := template_paths[kind]

template := obj if kind == "Pod"

template := obj.spec.template if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

template := obj.spec.jobTemplate.spec.template if kind == "CronJob"

pod_spec := template.spec if {
	judged
	is_object(template)
	is_object(template.spec)
}

spec_prefix := concat("", [field_path(template_path), dot(template_path), "spec"])

dot(path) := "." if count(path) > 0

dot(path) := "" if count(path) == 0

field_path(path) := concat(".", path)

# Every container with its group, index and field path.
containers contains c if {
	some group in ["initContainers", "containers", "ephemeralContainers"]
	is_array(pod_spec[group])
	some i, container in pod_spec[group]
	is_object(container)
	c := {
		"group": group,
		"container": container,
		"name": container_name(container, i),
		"index": i,
	}
}

# Field paths are only built for messages.
container_path(c) := sprintf("%s.%s[%d]", [spec_prefix, c.group, c.index])

container_name(container, _) := container.name if is_string(container.name)

container_name(container, i) := sprintf("#%d", [i]) if not is_string(container.name)

resource_label := sprintf("%s %q", [kind, name])

container_label(c) := sprintf("%s %q container %q", [kind, name, c.name])

# --- trusted-registry -------------------------------------------------------

deny contains msg if {
	some c in containers
	image := container_image(c.container)
	not image_ref(image)
	msg := sprintf("trusted-registry: %s: has no image; set image to a reference from a trusted registry (%s) (field %s.image)", [container_label(c), allowed_registries, container_path(c)])
}

deny contains msg if {
	some c in containers
	ref := image_ref(container_image(c.container))
	not trusted(ref)
	msg := sprintf("trusted-registry: %s: uses image %q from %s/%s, which is not a trusted registry; pull it from one of %s (field %s.image)", [container_label(c), c.container.image, ref.registry, ref.repository, allowed_registries, container_path(c)])
}

allowed_registries := concat(", ", params.registries)

container_image(container) := container.image if is_string(container.image)

container_image(container) := "" if not is_string(container.image)

docker_hub_aliases := {"docker.io", "index.docker.io", "registry-1.docker.io"}

# Splits an image the way the container runtime resolves it; undefined when empty.
image_ref(image) := docker_hub({"registry": registry, "repository": repository}) if {
	trimmed := trim_space(image)
	trimmed != ""
	without_digest := split(trimmed, "@")[0]

	# A tag is what follows the last colon, when no slash comes after it.
	path := regex.replace(without_digest, `:[^:/]*$`, "")
	[registry, repository] := split_host(path)
}

split_host(path) := [lower(first), substring(path, slash + 1, -1)] if {
	slash := indexof(path, "/")
	slash >= 0
	first := substring(path, 0, slash)
	looks_like_host(first)
} else := ["docker.io", path]

looks_like_host(part) if contains(part, ".")

looks_like_host(part) if contains(part, ":")

looks_like_host("localhost") := true

# Docker Hub has one name, and official images live under library/.
docker_hub(ref) := {"registry": "docker.io", "repository": library(ref.repository)} if {
	ref.registry in docker_hub_aliases
} else := ref

library(repository) := repository if contains(repository, "/")

library(repository) := concat("/", ["library", repository]) if not contains(repository, "/")

# The registries parameter, parsed once per query.
registry_entries := [entry_of(e) | some e in params.registries]

entry_of(entry) := {"registry": normal_host(lower(host)), "prefix": prefix} if {
	trimmed := regex.replace(trim_space(entry), `/+$`, "")
	parts := split(trimmed, "/")
	host := parts[0]
	prefix := concat("/", array.slice(parts, 1, count(parts)))
}

normal_host(host) := "docker.io" if host in docker_hub_aliases

normal_host(host) := host if not host in docker_hub_aliases

trusted(ref) if trusted_by(ref, registry_entries)

trusted_by(ref, entries) if {
	some entry in entries
	host_matches(entry.registry, ref.registry)
	under_prefix(entry.prefix, ref.repository)
}

# Hosts compare exactly; a leading "*." stands for one or more labels.
host_matches(pattern, registry) if {
	not startswith(pattern, "*.")
	pattern == registry
}

host_matches(pattern, registry) if {
	startswith(pattern, "*.")
	wanted := split_port(substring(pattern, 2, -1))
	actual := split_port(registry)
	wanted.port == actual.port
	wanted.name != ""
	suffix := concat("", [".", wanted.name])
	count(actual.name) > count(suffix)
	endswith(actual.name, suffix)
}

split_port(host) := {"name": substring(host, 0, colon), "port": substring(host, colon + 1, -1)} if {
	colon := last_index(host, ":")
	colon > last_index(host, "]")
} else := {"name": host, "port": null}

last_index(text, char) := max(found) if {
	found := indexof_n(text, char)
	count(found) > 0
} else := -1

# Paths match on whole segments: team covers team/app but not teamx/app.
under_prefix("", _) := true

under_prefix(prefix, repository) if {
	prefix != ""
	repository == prefix
}

under_prefix(prefix, repository) if {
	prefix != ""
	startswith(repository, concat("", [prefix, "/"]))
}

# --- privileged ---------------------------------------------------------------

deny contains msg if {
	some c in containers
	c.container.securityContext.privileged == true
	msg := sprintf("privileged: %s: runs privileged; remove securityContext.privileged or set it to false (field %s.securityContext.privileged)", [container_label(c), container_path(c)])
}

# --- run-as-non-root ----------------------------------------------------------

# The container's own setting wins over the pod's.
effective(c, field) := {"value": v, "from_pod": false} if {
	v := c.container.securityContext[field]
} else := {"value": v, "from_pod": true} if {
	v := pod_spec.securityContext[field]
} else := {"unset": true, "from_pod": false}

# Where a setting is, or where to set it when neither level has it.
setting_path(c, setting, field) := sprintf("%s.securityContext.%s", [spec_prefix, field]) if {
	setting.from_pod
} else := sprintf("%s.securityContext.%s", [container_path(c), field])

root_checked if not params.allow_root_in_user_namespace

root_checked if not in_user_namespace

in_user_namespace if pod_spec.hostUsers == false

deny contains msg if {
	root_checked
	some c in containers
	setting := effective(c, "runAsNonRoot")
	setting.unset
	msg := sprintf("run-as-non-root: %s: may run as root because runAsNonRoot is not set; set securityContext.runAsNonRoot to true on the container or the pod (field %s)", [container_label(c), setting_path(c, setting, "runAsNonRoot")])
}

deny contains msg if {
	root_checked
	some c in containers
	setting := effective(c, "runAsNonRoot")
	not setting.unset
	setting.value != true
	msg := sprintf("run-as-non-root: %s: %s runAsNonRoot: %v; set it to true (field %s)", [container_label(c), inherits(setting), setting.value, setting_path(c, setting, "runAsNonRoot")])
}

deny contains msg if {
	root_checked
	some c in containers
	setting := effective(c, "runAsUser")
	setting.value == 0
	msg := sprintf("run-as-non-root: %s: %s runAsUser: 0 (root); set a non-zero UID (field %s)", [container_label(c), inherits(setting), setting_path(c, setting, "runAsUser")])
}

inherits(setting) := "inherits" if setting.from_pod

inherits(setting) := "sets" if not setting.from_pod

# --- resources ----------------------------------------------------------------

required_resources := [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]

required_resources_all := array.concat(required_resources, [["limits", "cpu"]]) if {
	params.require_cpu_limit
} else := required_resources

deny contains msg if {
	some c in containers
	c.group != "ephemeralContainers"
	some pair in required_resources_all
	kind_of := pair[0]
	resource := pair[1]
	not resource_set(c.container, kind_of, resource)

	# The API server copies a limit into a missing request.
	not request_from_limit(c.container, kind_of, resource)
	msg := sprintf("resources: %s: has no %s %s; set resources.%s.%s (field %s.resources.%s.%s)", [container_label(c), resource, singular[kind_of], kind_of, resource, container_path(c), kind_of, resource])
}

singular := {"requests": "request", "limits": "limit"}

resource_set(container, kind_of, resource) if is_number(container.resources[kind_of][resource])

resource_set(container, kind_of, resource) if {
	value := container.resources[kind_of][resource]
	is_string(value)
	trim_space(value) != ""
}

request_from_limit(container, "requests", resource) if resource_set(container, "limits", resource)

# --- default-namespace --------------------------------------------------------

control_plane_objects := {
	"Service/kubernetes",
	"Endpoints/kubernetes",
	"EndpointSlice/kubernetes",
	"ServiceAccount/default",
	"ConfigMap/kube-root-ca.crt",
}

deny contains msg if {
	judged
	namespace == "default"
	not kind in {"Event", "Namespace"}
	not concat("/", [kind, name]) in control_plane_objects
	msg := sprintf("default-namespace: %s: is in the default namespace; create a namespace for the application and set metadata.namespace to it (field metadata.namespace)", [resource_label])
}

# --- required-labels ----------------------------------------------------------

labelled_kinds := {
	"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
	"ReplicationController", "Job", "CronJob", "Service",
}

# Objects a controller created are skipped: their owner was checked.
controlled if {
	some ref in obj.metadata.ownerReferences
	ref.controller == true
}

warn contains msg if {
	judged
	kind in labelled_kinds
	not controlled
	some key in params.labels
	not has_label(obj.metadata, key)
	msg := sprintf("required-labels: %s: has no %q label; add it with a non-empty value under metadata.labels", [resource_label, key])
}

warn contains msg if {
	kind in labelled_kinds
	not controlled
	count(template_path) > 0
	pod_spec
	some key in params.labels
	not has_label(template.metadata, key)
	msg := sprintf("required-labels: %s: has a pod template with no %q label; add it with a non-empty value under %s.metadata.labels", [resource_label, key, field_path(template_path)])
}

has_label(meta, key) if {
	value := meta.labels[key]
	is_string(value)
	value != ""
}

# --- probes -------------------------------------------------------------------

long_running if {
	not kind in {"Job", "CronJob"}
	not owned_by_job
}

owned_by_job if {
	kind == "Pod"
	some ref in obj.metadata.ownerReferences
	ref.kind == "Job"
}

warn contains msg if {
	params.probes.liveness
	long_running
	some c in containers
	c.group == "containers"
	not probe_set(c.container, "livenessProbe")
	msg := sprintf("probes: %s: has no livenessProbe; add one that fails only when a restart would help (field %s.livenessProbe)", [container_label(c), container_path(c)])
}

warn contains msg if {
	params.probes.readiness
	long_running
	some c in containers
	c.group == "containers"
	not probe_set(c.container, "readinessProbe")
	msg := sprintf("probes: %s: has no readinessProbe; add one that succeeds only when the container can serve requests (field %s.readinessProbe)", [container_label(c), container_path(c)])
}

# As in JavaScript: present and not null, false, 0 or "".
probe_set(container, field) if {
	value := container[field]
	not value in {null, false, 0, ""}
}

# --- for the bench's cross-check of registry matching against Tollgate's ------

image_trusted_by(image, registries) if {
	trusted_by(image_ref(image), [entry_of(e) | some e in registries])
}
