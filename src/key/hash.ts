import { createHash } from 'node:crypto';

/** SHA-256 of a string, as 64 lowercase hex characters. */
export function sha256Hex(material: string): string {
  return createHash('sha256').update(material).digest('hex');
}

/** SHA-256 of a string, as 43 base64url characters (shorter keys for the same strength). */
export function sha256Base64Url(material: string): string {
  return createHash('sha256').update(material).digest('base64url');
}
