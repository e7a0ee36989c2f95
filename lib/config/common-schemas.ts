import { z } from 'zod';

/**
 * Patterns and schemas more than one part of the configuration uses, so a
 * namespace or a secret ARN is checked the same way wherever it appears.
 */

/** DNS-1123 label: namespaces and most Kubernetes names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: object names such as ServiceAccounts. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
/** A container image pinned by tag or digest. */
const PINNED_IMAGE = /^[a-z0-9]+([._/:-][a-z0-9]+)*(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/;

/** Kubernetes namespaces are DNS-1123 labels of at most 63 characters. */
export const namespaceSchema = z
  .string()
  .max(63, 'a Kubernetes namespace has at most 63 characters; shorten it')
  .regex(
    DNS_LABEL,
    'a Kubernetes namespace is lowercase letters, digits and "-", starting and ending with a letter or digit',
  );

/** ServiceAccount names are DNS-1123 subdomains of at most 253 characters. */
export const serviceAccountNameSchema = z
  .string()
  .max(253, 'a ServiceAccount name has at most 253 characters; shorten it')
  .regex(
    DNS_SUBDOMAIN,
    'a ServiceAccount name is lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
  );

/**
 * An image pinned by tag or digest, never `:latest`: two runs of the same Job
 * must run the same code.
 */
export function pinnedImageSchema(
  message: string,
  latestMessage = 'pin a version instead of :latest',
) {
  return z
    .string()
    .regex(PINNED_IMAGE, message)
    .refine((i) => !i.endsWith(':latest'), { message: latestMessage });
}
