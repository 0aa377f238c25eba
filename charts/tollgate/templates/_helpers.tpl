{{/*
Labels every object of deploy/base carries (its kustomization's `labels`),
with Helm as the manager.
*/}}
{{- define "tollgate.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/name: tollgate
app.kubernetes.io/part-of: tollgate
{{- end }}

{{- define "tollgate.namespace" -}}
{{ .Values.namespace.name }}
{{- end }}

{{/* The namespaces no webhook ever intercepts, whatever their labels. */}}
{{- define "tollgate.alwaysExempt" -}}
[kube-system, kube-public, kube-node-lease, {{ include "tollgate.namespace" . }}]
{{- end }}

{{/* Values that do not combine fail the install with a clear message. */}}
{{- define "tollgate.validate" -}}
{{- end }}

{{/*
The namespaceSelector of one webhook. The first term exempts the always-exempt
namespaces; the second selects by mode label (the argument: "enforce" for the
enforce and mutate webhooks, else the report mode); a third term exempts the
AKS profile's namespaces and exemptNamespaces.
*/}}
{{- define "tollgate.namespaceSelector" -}}
{{- $root := index . 0 }}
{{- $mode := index . 1 }}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ include "tollgate.alwaysExempt" $root }}
    {{- if ne $mode "enforce" }}
    - key: tollgate.dev/mode
      operator: In
      values: [{{ $mode }}]
    {{- else if eq $root.Values.mode "opt-in" }}
    - key: tollgate.dev/mode
      operator: In
      values: [enforce]
    {{- else }}
    - key: tollgate.dev/mode
      operator: NotIn
      values: [warn, audit, "off"]
    {{- end }}
    {{- $extra := list }}
    {{- if $root.Values.aks.enabled }}
    {{- $extra = concat $extra (include "tollgate.aksNamespaces" $root | fromYamlArray) }}
    {{- end }}
    {{- $extra = concat $extra $root.Values.exemptNamespaces }}
    {{- if $extra }}
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ toJson $extra }}
    {{- end }}
{{- end }}

{{/*
Where the API server calls one webhook: the Service, or webhookUrl when set.
The path names the mode.
*/}}
{{- define "tollgate.clientConfig" -}}
{{- $root := index . 0 }}
clientConfig:
  {{- if $root.Values.webhookUrl }}
  url: {{ printf "%s%s" $root.Values.webhookUrl (index . 1) }}
  {{- else }}
  service:
    name: tollgate
    namespace: {{ include "tollgate.namespace" $root }}
    path: {{ index . 1 }}
    port: 443
  {{- end }}
{{- end }}

{{/* The host of webhookUrl, without port or IPv6 brackets: the serving certificate names it. */}}
{{- define "tollgate.webhookUrlHost" -}}
{{- (urlParse .Values.webhookUrl).hostname }}
{{- end }}

{{/* What every validating webhook intercepts. */}}
{{- define "tollgate.validatingRules" -}}
rules:
  - apiGroups: [""]
    apiVersions: [v1]
    operations: [CREATE, UPDATE]
    # pods/ephemeralcontainers: `kubectl debug` adds containers through this
    # subresource; without it a debug container could run privileged.
    resources: [pods, pods/ephemeralcontainers, replicationcontrollers, services]
    scope: Namespaced
  - apiGroups: [apps]
    apiVersions: [v1]
    operations: [CREATE, UPDATE]
    resources: [deployments, statefulsets, daemonsets, replicasets]
    scope: Namespaced
  - apiGroups: [batch]
    apiVersions: [v1]
    operations: [CREATE, UPDATE]
    resources: [jobs, cronjobs]
    scope: Namespaced
  # The PolicySet's workloadKinds (Argo Rollouts by default): kinds beyond the
  # built-in ones with a pod template. test/deploy/policyset.test.ts checks
  # that every configured kind is registered here.
  - apiGroups: [argoproj.io]
    apiVersions: [v1alpha1]
    operations: [CREATE, UPDATE]
    resources: [rollouts]
    scope: Namespaced
  - apiGroups: [networking.k8s.io]
    apiVersions: [v1]
    operations: [CREATE, UPDATE]
    resources: [ingresses]
    scope: Namespaced
  # Legacy AAD Pod Identity objects, for the pod-identity policy; matches
  # nothing where those CRDs are not installed.
  - apiGroups: [aadpodidentity.k8s.io]
    apiVersions: ["*"]
    operations: [CREATE, UPDATE]
    resources: [azureidentities, azureidentitybindings]
    scope: Namespaced
{{- end }}

{{/* cert-manager's cainjector fills the caBundle of annotated configurations. */}}
{{- define "tollgate.webhookAnnotations" -}}
{{- if eq .Values.certificates.source "cert-manager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ include "tollgate.namespace" . }}/tollgate-serving
{{- end }}
{{- end }}
