import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';

/** The key KubeStash reads the restic password from. */
export const RESTIC_PASSWORD_KEY = 'RESTIC_PASSWORD';

/** Where a BackupConfiguration or RestoreSession finds the restic password. */
export interface SecretReference {
  readonly name: string;
  readonly namespace: string;
}

export interface ResticPasswordSecretProps extends SecretReference {
  /** The password itself; it ends up in the synthesized manifest. */
  readonly password: string;
}

/**
 * A Secret holding the restic password, for those who ask to have it written
 * into the manifests. The default is to reference a Secret created out of band
 * (`kubectl create secret generic ... --from-file=RESTIC_PASSWORD`), so the
 * password never lands in `dist/` or in version control.
 */
export class ResticPasswordSecret extends Construct implements SecretReference {
  readonly name: string;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: ResticPasswordSecretProps) {
    super(scope, id);
    // restic accepts any non-empty password; a short one makes every backup guessable.
    if (props.password.length < 16) {
      throw new Error(
        `ResticPasswordSecret ${props.name}: the password has ${props.password.length} characters; use at least 16 (e.g. openssl rand -base64 32)`,
      );
    }
    this.name = props.name;
    this.namespace = props.namespace;
    new k8s.KubeSecret(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      type: 'Opaque',
      stringData: { [RESTIC_PASSWORD_KEY]: props.password },
    });
  }
}
