/**
 * The `restricted` Pod Security Standard (which includes `baseline`) as the
 * checks Pod Security Admission runs on a pod spec, per
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/
 * (version `latest`, Kubernetes 1.32). Not modelled: AppArmor, SELinux,
 * /proc mount type, sysctls and Windows host processes (the gate sets none).
 */
type Json = Record<string, unknown>;

const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);

/** What would make PodSecurity refuse the pod spec at `restricted`; empty when it complies. */
export function restrictedViolations(podSpec: Json): string[] {
  const out: string[] = [];
  const pod = obj(podSpec.securityContext);
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (podSpec[host] === true) out.push(`host namespaces (${host}=true)`);
  }
  for (const v of list(podSpec.volumes)) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type === 'hostPath') out.push(`hostPath volumes (volume "${String(v.name)}")`);
    else if (type !== undefined && !RESTRICTED_VOLUMES.has(type)) {
      out.push(`restricted volume types (volume "${String(v.name)}" uses ${type})`);
    }
  }
  const containers = [
    ...list(podSpec.initContainers),
    ...list(podSpec.containers),
    ...list(podSpec.ephemeralContainers),
  ];
  if (pod.runAsUser === 0) out.push('runAsUser=0 (pod must not set runAsUser=0)');
  const podSeccomp = obj(pod.seccompProfile).type;
  if (podSeccomp === 'Unconfined') out.push('seccompProfile (pod must not set it to Unconfined)');
  for (const c of containers) {
    const name = String(c.name);
    const sc = obj(c.securityContext);
    if (sc.privileged === true) out.push(`privileged (container "${name}" must not set it)`);
    if (list(c.ports).some((p) => p.hostPort !== undefined && p.hostPort !== 0)) {
      out.push(`hostPort (container "${name}" uses hostPorts)`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      out.push(`allowPrivilegeEscalation != false (container "${name}" must set it to false)`);
    }
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (nonRoot !== true) out.push(`runAsNonRoot != true (pod or container "${name}" must set it)`);
    if (sc.runAsUser === 0) out.push(`runAsUser=0 (container "${name}" must not set it)`);
    const seccomp = obj(sc.seccompProfile).type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      out.push(
        `seccompProfile (pod or container "${name}" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
      );
    }
    const caps = obj(sc.capabilities);
    const drop = Array.isArray(caps.drop) ? caps.drop : [];
    if (!drop.includes('ALL'))
      out.push(`unrestricted capabilities (container "${name}" must drop ALL)`);
    const add = Array.isArray(caps.add) ? caps.add : [];
    if (add.some((a) => a !== 'NET_BIND_SERVICE')) {
      out.push(`unrestricted capabilities (container "${name}" may add only NET_BIND_SERVICE)`);
    }
  }
  return out;
}
