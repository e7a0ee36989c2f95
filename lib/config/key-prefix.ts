/**
 * S3 key prefixes joined as both apps write them: without slashes at either
 * end and with empty parts (a bucket used from its root) left out, so the
 * stack's policies and the manifests name the same folder.
 */
export function joinKeyPrefix(...parts: readonly string[]): string {
  return parts.filter((p) => p !== '').join('/');
}
