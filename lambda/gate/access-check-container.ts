import {
  ACCESS_CHECK_ANNOTATION,
  ACCESS_CHECK_CONTAINER,
  ACCESS_CHECK_SKIP,
} from '../ports/annotations';

export interface AccessCheckTarget {
  readonly bucket: string;
  /** Key prefix to probe under, ending in `/` (the backup prefix's access-check folder). */
  readonly prefix: string;
}

export interface AccessCheckOptions {
  /** An image with the AWS CLI v2 and a POSIX shell, pinned. */
  readonly image: string;
  readonly attempts: number;
  readonly delaySeconds: number;
  readonly targets: readonly AccessCheckTarget[];
  /** Buckets the Job names that this stack does not manage: named in the log, not probed. */
  readonly unmanagedBuckets: readonly string[];
}

/**
 * The check each gated Job runs before its backup starts: list the prefix,
 * then put, head and delete a probe object under it, for every bucket the Job
 * uses. IAM changes propagate in seconds, sometimes a minute, so each bucket
 * is retried a bounded number of times with a log line per attempt; the
 * container fails (and the Job's backoff applies) only if access never comes.
 * The probe key is the pod's name, so parallel pods never collide, and the
 * bucket's lifecycle rule expires any probe a killed pod left behind.
 */
export const ACCESS_CHECK_SCRIPT = `set -u
if [ "\${ACCESS_CHECK:-}" = "${ACCESS_CHECK_SKIP}" ]; then
  echo "access-check: skipped: the Job's ServiceAccount needs no role from kubestash-irsa (see the Job's Events)"
  exit 0
fi
probe() {
  bucket="$1"; prefix="$2"; key="\${prefix}\${HOSTNAME:-probe}"
  step=ListBucket; aws s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" --max-items 1 >/dev/null || return 1
  printf 'kubestash-irsa access check\\n' >/tmp/kubestash-irsa-probe
  step=PutObject; aws s3api put-object --bucket "$bucket" --key "$key" --body /tmp/kubestash-irsa-probe >/dev/null || return 1
  step=HeadObject; aws s3api head-object --bucket "$bucket" --key "$key" >/dev/null || return 1
  step=DeleteObject; aws s3api delete-object --bucket "$bucket" --key "$key" >/dev/null || return 1
}
for bucket in $UNMANAGED_BUCKETS; do
  echo "access-check: s3://$bucket is not managed by kubestash-irsa; not checked"
done
for target in $TARGETS; do
  bucket="\${target%%=*}"; prefix="\${target#*=}"; n=1
  while :; do
    if probe "$bucket" "$prefix"; then
      echo "access-check: s3://$bucket/$prefix ok: list, put, head, delete (attempt $n/$ATTEMPTS)"
      break
    fi
    if [ "$n" -ge "$ATTEMPTS" ]; then
      echo "access-check: s3://$bucket/$prefix $step still denied after $n attempts; the Job's role (\${AWS_ROLE_ARN:-none injected}) cannot reach the bucket: check the ServiceAccount's eks.amazonaws.com/role-arn and the Events of this Job" >&2
      exit 1
    fi
    echo "access-check: s3://$bucket/$prefix $step failed (attempt $n/$ATTEMPTS); retrying in $DELAY_SECONDS s"
    sleep "$DELAY_SECONDS"; n=$((n + 1))
  done
done
`;

/** The writable scratch volume the check mounts at /tmp (its root file system is read-only). */
export const ACCESS_CHECK_VOLUME = {
  name: `${ACCESS_CHECK_CONTAINER}-tmp`,
  emptyDir: { sizeLimit: '16Mi' },
};

/**
 * The init container, as a pod spec holds it. Its security context satisfies
 * the `restricted` Pod Security level on its own, whatever the pod sets
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/):
 * seccomp `RuntimeDefault`, non-root, no privilege escalation, all
 * capabilities dropped; its root file system is read-only and it writes only
 * to {@link ACCESS_CHECK_VOLUME} at /tmp. It reads the pod's
 * {@link ACCESS_CHECK_ANNOTATION} through the downward API to step aside for
 * a Job released without a role.
 */
export function accessCheckContainer(options: AccessCheckOptions): Record<string, unknown> {
  return {
    name: ACCESS_CHECK_CONTAINER,
    image: options.image,
    command: ['/bin/sh', '-c', ACCESS_CHECK_SCRIPT],
    env: [
      { name: 'TARGETS', value: options.targets.map((t) => `${t.bucket}=${t.prefix}`).join(' ') },
      { name: 'UNMANAGED_BUCKETS', value: options.unmanagedBuckets.join(' ') },
      { name: 'ATTEMPTS', value: String(options.attempts) },
      { name: 'DELAY_SECONDS', value: String(options.delaySeconds) },
      // The CLI keeps its cache under $HOME; /tmp is the scratch volume.
      { name: 'HOME', value: '/tmp' },
      {
        name: 'ACCESS_CHECK',
        valueFrom: {
          fieldRef: { fieldPath: `metadata.annotations['${ACCESS_CHECK_ANNOTATION}']` },
        },
      },
    ],
    volumeMounts: [{ name: ACCESS_CHECK_VOLUME.name, mountPath: '/tmp' }],
    resources: {
      requests: { cpu: '10m', memory: '64Mi' },
      limits: { cpu: '200m', memory: '256Mi' },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      runAsUser: 65534,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
      readOnlyRootFilesystem: true,
    },
  };
}
