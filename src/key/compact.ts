import { sha256Base64Url } from './hash.js';

/** Canonical material up to this length is used as is (cheap, readable); longer material is hashed. */
export const MAX_RAW_KEY_LENGTH = 128;

/**
 * Short material stays readable and costs no hash on the hit path; long material becomes `#` + SHA-256
 * (base64url). `#` never starts a canonical encoding, so a hashed key can never equal a raw one.
 */
export function compactKey(material: string): string {
  return material.length <= MAX_RAW_KEY_LENGTH ? material : `#${sha256Base64Url(material)}`;
}
