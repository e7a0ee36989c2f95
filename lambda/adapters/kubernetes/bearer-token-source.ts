/** Where the Kubernetes client gets its `Authorization: Bearer` token. */
export interface BearerTokenSource {
  token(): Promise<string>;
  /** Forgets the current token because the API server refused it; the next call makes a new one. */
  invalidate(): void;
}
