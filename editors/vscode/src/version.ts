// The version handshake: flash-lsp reports its version in initialize's
// serverInfo, and the extension warns when the binary is older than the
// server features it relies on. Like binary.ts, no 'vscode' import.

import { installCommand } from './binary';

/** The oldest flash-lsp this extension works with. */
export const minimumServerVersion = '0.1.0';

/** The outcome of comparing the server's version with the minimum. */
export type VersionCheck =
  | { kind: 'ok'; version: string }
  /** A development build ("devel", a Go pseudo-version) or no version: not compared. */
  | { kind: 'unknown'; version: string | undefined }
  | { kind: 'old'; version: string; message: string };

interface Semver {
  core: [number, number, number];
  prerelease: string;
}

/** Parses "v1.2.3", "1.2.3-rc.1" or "v1.2.3+meta"; undefined for anything else. */
export function parseVersion(v: string): Semver | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim());
  if (m === null) {
    return undefined;
  }
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], prerelease: m[4] ?? '' };
}

/** Orders two versions the way semver does for the parts this check needs. */
export function compareVersions(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) {
    if (a.core[i] !== b.core[i]) {
      return a.core[i] - b.core[i];
    }
  }
  if (a.prerelease === b.prerelease) {
    return 0;
  }
  if (a.prerelease === '') {
    return 1; // a release is newer than its prereleases
  }
  if (b.prerelease === '') {
    return -1;
  }
  return a.prerelease < b.prerelease ? -1 : 1;
}

/** A Go pseudo-version (v0.0.0-20261203101010-abcdefabcdef and kin): an untagged commit. */
function isPseudoVersion(v: Semver): boolean {
  return /(^|\.)\d{14}-[0-9a-f]{12}$/.test(v.prerelease);
}

/**
 * Compares initialize's serverInfo with the minimum. A server that names no
 * version, or a development build, is not compared: a user building from a
 * checkout gets no warning.
 */
export function checkServerVersion(serverInfo: { name?: string; version?: string } | undefined, minimum = minimumServerVersion): VersionCheck {
  const version = serverInfo?.version;
  if (version === undefined || version === '') {
    return { kind: 'unknown', version: undefined };
  }
  const got = parseVersion(version);
  const min = parseVersion(minimum);
  if (got === undefined || min === undefined || isPseudoVersion(got)) {
    return { kind: 'unknown', version };
  }
  if (compareVersions(got, min) >= 0) {
    return { kind: 'ok', version };
  }
  return {
    kind: 'old',
    version,
    message:
      `flash-lsp ${version} is older than this extension needs (${minimum} or newer), so some features may fail; ` +
      `update it with \`${installCommand}\``,
  };
}
