/** How to reach one cluster's API server. */
export interface ClusterConnection {
  /** `https://…`, no trailing slash. */
  readonly server: string;
  /** The cluster CA, PEM: the only CA the client trusts for this server. */
  readonly caPem: string;
}
