{{/*
The AKS profile's namespaces: the names of deploy/components/aks/namespaces.yaml,
where each has its source (test/deploy/aks.test.ts keeps the two equal).
*/}}
{{- define "tollgate.aksNamespaces" -}}
- aks-command
- aks-istio-egress
- aks-istio-ingress
- aks-istio-system
- app-routing-system
- azure-arc
- calico-system
- dapr-system
- dataprotection-microsoft
- flux-system
- gatekeeper-system
- tigera-operator
{{- end }}
