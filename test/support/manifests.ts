// Small objects that several policy tests build the same way.
import type { KubeObject } from "../../src/engine/index.js";
import { objectOf } from "./policies.js";

/** A Pod in `apps` with one container running `image`. */
export function podWithImage(image: string): KubeObject {
  return objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: apps }
spec:
  containers:
    - name: app
      image: "${image}"
`);
}

/**
 * The Deployment `web` in `shop` with one container; `replicas` and
 * `podSpec` are YAML lines inserted under spec and the pod spec ("" for none).
 */
export function webDeployment(replicas: string, podSpec = ""): KubeObject {
  return objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: mcr.microsoft.com/app/web:1.0 }]
      ${podSpec}
`);
}
