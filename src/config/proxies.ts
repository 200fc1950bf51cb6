/**
 * --trusted-proxies: the addresses (and CIDR ranges) of the load balancers in front of this
 * server. Only a request whose socket comes from one of them may name its client in
 * X-Forwarded-For (src/transports/http/admission/forwarded.ts); every other peer is its own client.
 */
import net from "node:net";
import { ConfigError } from "./file.js";

/** An address as compared everywhere: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is a.b.c.d. */
export function plainAddress(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith("::ffff:") && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

/** `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`: checked and normalised, or a ConfigError naming the bad entry. */
export function parseTrustedProxies(items: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const raw of items ?? []) {
    const item = raw.trim();
    if (!item) continue;
    const [address = "", bits, extra] = item.split("/");
    const family = net.isIP(plainAddress(address));
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!family || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
      throw new ConfigError(
        `--trusted-proxies: "${item.slice(0, 80)}" is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, ::1, fd00::/8)`,
      );
    }
    out.push(bits === undefined ? plainAddress(address) : `${plainAddress(address)}/${prefix}`);
  }
  return out;
}

/** Is `address` one of the trusted proxies? (Built once; an empty list trusts nobody.) */
export function proxyMatcher(entries: readonly string[]): (address: string) => boolean {
  if (!entries.length) return () => false;
  const list = new net.BlockList();
  for (const e of entries) {
    const [address, bits] = e.split("/") as [string, string | undefined];
    const type = net.isIPv4(address) ? "ipv4" : "ipv6";
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return (address) => {
    const a = plainAddress(address);
    const family = net.isIP(a);
    return family !== 0 && list.check(a, family === 4 ? "ipv4" : "ipv6");
  };
}
