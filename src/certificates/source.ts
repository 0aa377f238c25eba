/** The serving certificate and key a listener presents, PEM-encoded. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/**
 * Where the listener gets its certificate from. Implementations reload on
 * their own (files on disk, a Secret in the cluster) and tell listeners, so
 * that rotation needs neither a restart nor a failed request.
 */
export interface TlsSource {
  current(): TlsMaterial;
  /** Returns a function that removes the listener. */
  onChange(listener: (material: TlsMaterial) => void): () => void;
  close(): void;
  /** The CAs clients are told to trust, PEM, when the source keeps them (for the expiry metric). */
  caBundle?(): string;
}
