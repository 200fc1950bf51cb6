/**
 * The throttles' subject for a client address (issue 20, finding 11): an IPv4 address is its own
 * bucket, but an IPv6 client commonly holds a whole /64 (SLAAC, privacy addresses), so IPv6
 * addresses are bucketed by their first --ipv6-prefix bits (default 64; 128: each address alone).
 * The audit still names the full address.
 */
import net from "node:net";
import { plainAddress } from "../../../config/proxies.js";

/** The 8 groups of an IPv6 address as numbers (`::` expanded, an embedded IPv4 tail converted). */
function groupsOf(address: string): number[] | undefined {
  let a = address.toLowerCase().replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const [b0, b1, b2, b3] = v4[1]!.split(".").map(Number) as [number, number, number, number];
    a = `${a.slice(0, -v4[1]!.length)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head = "", tail] = a.split("::");
  const h = head ? head.split(":") : [];
  const t = tail === undefined ? [] : tail ? tail.split(":") : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const parts = [...h, ...Array<string>(Math.max(0, fill)).fill("0"), ...t];
  if (parts.length !== 8) return undefined;
  return parts.map((p) => parseInt(p, 16));
}

/** `2001:db8:1:2:…` with prefix 64 → `2001:db8:1:2::/64`; IPv4 and anything else unchanged. */
export function addressBucket(address: string, ipv6Prefix: number): string {
  const a = plainAddress(address);
  if (!net.isIPv6(a) || ipv6Prefix >= 128) return a;
  const groups = groupsOf(a);
  if (!groups) return a;
  let bits = ipv6Prefix;
  const kept = groups.map((g) => {
    const take = Math.max(0, Math.min(16, bits));
    bits -= take;
    return take === 0 ? 0 : take === 16 ? g : g & ((0xffff << (16 - take)) & 0xffff);
  });
  return `${kept.map((g) => g.toString(16)).join(":")}/${ipv6Prefix}`;
}
