export * from './config-error';
export * from './load-config';
export * from './project-config';
export * from './kubernetes-config';
export * from './config-fingerprint';
