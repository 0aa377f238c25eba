// Types of image.mjs, which stays plain JavaScript so up.sh runs it with node.
export const TOLLGATE_REF: string;
export const BUSYBOX_REF: string;
export const BUSYBOX_NONROOT_REF: string;
export const PAUSE_REF: string;
export const NONROOT_UID: number;
export const CERT_MANAGER_REF: string;
export const CERT_MANAGER_BINARIES: string[];
export const TOLLGATE_CONFIG: {
  User: string;
  WorkingDir: string;
  Env: string[];
  ExposedPorts: Record<string, Record<string, never>>;
  Entrypoint: string[];
  Cmd: string[];
};
