export { parseIP, ipFromValue, formatIP, familyBits, familyName, type Family, type IPAddress } from './address.ts';
