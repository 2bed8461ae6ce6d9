import { hash } from 'node:crypto';

/** SHA-256 of a string's UTF-8 bytes (one-shot, no Hash object). */
export function sha256(material: string, encoding: 'hex' | 'base64url'): string {
  return hash('sha256', material, encoding);
}

/** SHA-256 of a string, as 64 lowercase hex characters. */
export function sha256Hex(material: string): string {
  return sha256(material, 'hex');
}

/** SHA-256 of a string, as 43 base64url characters (shorter keys for the same strength). */
export function sha256Base64Url(material: string): string {
  return sha256(material, 'base64url');
}
