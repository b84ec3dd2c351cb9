/** Stable code of a manifest the gateway cannot use (bad JSON, wrong format, duplicate ids). */
export const PERSISTED_MANIFEST_INVALID = 'PERSISTED_MANIFEST_INVALID';

/** A trusted-documents manifest that cannot be used; start-up stops with it. Match on `code`. */
export class PersistedManifestError extends Error {
  readonly code = PERSISTED_MANIFEST_INVALID;
  constructor(message: string) {
    super(message);
    this.name = 'PersistedManifestError';
  }
}
