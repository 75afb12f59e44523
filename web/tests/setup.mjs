// Node 18 (Debian 12's Node.js) has no global Web Crypto; browsers and Node >= 19 do. The app
// code uses globalThis.crypto as a browser would, so the unit tests provide it the same way.
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) Object.defineProperty(globalThis, 'crypto', { value: webcrypto });
