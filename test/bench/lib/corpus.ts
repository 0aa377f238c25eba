// A large, realistic manifest stream for the CLI benchmark: the kinds and
// sizes of public projects' manifests (about 600 bytes per object on
// average), some compliant, most not, written once and reused.

import { once } from "node:events";
import { createWriteStream, existsSync, mkdirSync, renameSync } from "node:fs";
import { dirname } from "node:path";

function deployment(i: number): string {
  const compliant = i % 4 === 0;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${i}
  namespace: shop-${i % 50}
  labels:
    app.kubernetes.io/name: web-${i}
    app.kubernetes.io/part-of: shop
spec:
  replicas: ${compliant ? 3 : 1}
  selector:
    matchLabels:
      app.kubernetes.io/name: web-${i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web-${i}
    spec:
      serviceAccountName: web-${i}
      containers:
        - name: web
          image: ${compliant ? "mcr.microsoft.com/shop/web:2.4.1" : "docker.io/shop/web:latest"}
          ports:
            - containerPort: 8080
              name: http
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_HOST
              value: db.shop-${i % 50}.svc.cluster.local
          resources:
            requests: { cpu: 100m, memory: 128Mi }
            limits: { memory: 256Mi }
          readinessProbe:
            httpGet: { path: /ready, port: http }
          livenessProbe:
            httpGet: { path: /live, port: http }
${compliant ? "          securityContext:\n            runAsNonRoot: true\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n" : ""}`;
}

const service = (i: number) => `apiVersion: v1
kind: Service
metadata:
  name: web-${i}
  namespace: shop-${i % 50}
  labels:
    app.kubernetes.io/name: web-${i}
spec:
  selector:
    app.kubernetes.io/name: web-${i}
  ports:
    - name: http
      port: 80
      targetPort: http
`;

const configMap = (i: number) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings-${i}
  namespace: shop-${i % 50}
data:
  LOG_FORMAT: json
  FEATURE_FLAGS: "checkout,search,recommendations"
  settings.yaml: |
    cache:
      ttl: 300
      size: 1024
`;

const serviceAccount = (i: number) => `apiVersion: v1
kind: ServiceAccount
metadata:
  name: web-${i}
  namespace: shop-${i % 50}
`;

const roleBinding = (i: number) => `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: web-${i}-reader
  namespace: shop-${i % 50}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: config-reader
subjects:
  - kind: ServiceAccount
    name: web-${i}
    namespace: shop-${i % 50}
`;

const cronJob = (i: number) => `apiVersion: batch/v1
kind: CronJob
metadata:
  name: report-${i}
  namespace: shop-${i % 50}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: mcr.microsoft.com/shop/report:1.0.${i % 10}
              args: ["--since", "24h"]
              resources:
                requests: { cpu: 50m, memory: 64Mi }
                limits: { memory: 128Mi }
`;

const ingress = (i: number) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web-${i}
  namespace: shop-${i % 50}
spec:
  ingressClassName: nginx
  tls:
    - hosts: [web-${i}.shop.example.com]
      secretName: web-${i}-tls
  rules:
    - host: web-${i}.shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: { name: web-${i}, port: { name: http } }
`;

/** Ten objects in the proportions of the public projects' manifests. */
const CYCLE = [
  deployment,
  service,
  configMap,
  deployment,
  service,
  configMap,
  serviceAccount,
  roleBinding,
  cronJob,
  ingress,
];

/** Writes `count` objects as one multi-document file (once: later calls reuse it). */
export async function writeCorpus(path: string, count: number): Promise<string> {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  for (let i = 0; i < count; i++) {
    const make = CYCLE[i % CYCLE.length] as (i: number) => string;
    if (!out.write(`${i === 0 ? "" : "---\n"}${make(i)}`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  renameSync(partial, path);
  return path;
}
