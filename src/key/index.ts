export { canonicalEncode } from './canonical.js';
export { compactKey, MAX_RAW_KEY_LENGTH } from './compact.js';
export { canonicalDigest, canonicalDigestHex, DIGEST_INLINE_LIMIT } from './digest.js';
export { NotCanonicalisableError } from './errors.js';
export { sha256Base64Url, sha256Hex } from './hash.js';
